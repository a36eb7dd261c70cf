// mdio_init — fixed PHY bring-up: hold the PHY in reset, then perform a fixed
// list of MDIO register writes (clause 22), then stop. Write-only: there is no
// MDIO input, so nothing the PHY says can enter the design. One instance per
// PHY, each with its own list.
// WRITES packs N_WRITES entries of 26 bits, entry 0 in the low bits:
//   {phy_addr[4:0], reg_addr[4:0], data[15:0]}.
`default_nettype none
module mdio_init #(
    parameter        N_WRITES     = 1,
    parameter [26*8-1:0] WRITES   = {26*8{1'b0}},  // up to 8 entries
    parameter        RESET_CLKS   = 1250000,        // PHY reset pulse (10 ms at 125 MHz)
    parameter        WAIT_CLKS    = 6250000,        // after reset, before MDIO (50 ms)
    parameter        MDC_DIV      = 50,             // clk / (2*MDC_DIV) = MDC (1.25 MHz)
    parameter        CNT_W        = 24
) (
    input  wire clk,
    input  wire rst,
    output reg  phy_rst_n,
    output reg  mdc,
    output reg  mdio,      // driven always (MDIO input buffer unused on the board)
    output reg  done
);
    localparam S_RST = 2'd0, S_WAIT = 2'd1, S_SEND = 2'd2, S_DONE = 2'd3;
    reg [1:0]       state;
    reg [CNT_W-1:0] cnt;
    reg [6:0]       bitn;     // bit index within the 64-bit frame
    reg [3:0]       wr;       // current write
    reg [63:0]      frame;


    always @(posedge clk) begin
        case (state)
            S_RST: begin
                phy_rst_n <= 1'b0;
                cnt <= cnt + 1'b1;
                if (cnt == RESET_CLKS - 1) begin state <= S_WAIT; cnt <= 0; end
            end
            S_WAIT: begin
                phy_rst_n <= 1'b1;
                cnt <= cnt + 1'b1;
                if (cnt == WAIT_CLKS - 1) begin
                    cnt <= 0;
                    bitn <= 0;
                    if (N_WRITES == 0) state <= S_DONE;
                    else begin
                        state <= S_SEND;
                        // 32 preamble ones, start 01, write 01, phy, reg, turnaround 10, data
                        frame <= {32'hFFFFFFFF, 2'b01, 2'b01, WRITES[0*26+21 +: 5],
                                  WRITES[0*26+16 +: 5], 2'b10, WRITES[0*26 +: 16]};
                    end
                end
            end
            S_SEND: begin
                cnt <= cnt + 1'b1;
                if (cnt == MDC_DIV - 1) begin
                    mdc <= 1'b0;                  // falling edge: next bit out
                    mdio <= frame[63];
                end else if (cnt == 2 * MDC_DIV - 1) begin
                    mdc <= 1'b1;                  // rising edge: PHY samples
                    cnt <= 0;
                    frame <= {frame[62:0], 1'b1};
                    bitn <= bitn + 1'b1;
                    if (bitn == 7'd63) begin
                        bitn <= 0;
                        if (wr == N_WRITES - 1) state <= S_DONE;
                        else begin
                            wr <= wr + 1'b1;
                            frame <= {32'hFFFFFFFF, 2'b01, 2'b01, WRITES[(wr+1)*26+21 +: 5],
                                      WRITES[(wr+1)*26+16 +: 5], 2'b10, WRITES[(wr+1)*26 +: 16]};
                        end
                    end
                end
            end
            default: begin
                mdc <= 1'b0;
                mdio <= 1'b1;
                done <= 1'b1;
            end
        endcase
        if (rst) begin
            state <= S_RST;
            cnt <= 0;
            wr <= 0;
            bitn <= 0;
            phy_rst_n <= 1'b0;
            mdc <= 1'b0;
            mdio <= 1'b1;
            done <= 1'b0;
        end
    end
endmodule
`default_nettype wire
