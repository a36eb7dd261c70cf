// mdio_init — fixed PHY bring-up: hold the PHY in reset, wait, then perform a
// fixed list of MDIO register writes (clause 22), then stop. Write-only: there
// is no MDIO input, so nothing the PHY says can enter the design. One instance
// per PHY, each with its own list.
// WRITES packs N_WRITES entries of 26 bits, entry 0 in the low bits:
//   {phy_addr[4:0], reg_addr[4:0], data[15:0]}.
`default_nettype none
module mdio_init #(
    parameter            N_WRITES   = 1,             // 1..8 (0: reset only)
    parameter [26*8-1:0] WRITES     = {26*8{1'b0}},  // up to 8 entries
    parameter            RESET_CLKS = 1250000,       // PHY reset pulse (10 ms at 125 MHz)
    parameter            WAIT_CLKS  = 6250000,       // after reset, before MDIO (50 ms)
    parameter            MDC_DIV    = 50,            // clk / (2*MDC_DIV) = MDC (1.25 MHz)
    parameter            CNT_W      = 24             // RESET_CLKS, WAIT_CLKS < 2**CNT_W
) (
    input  wire clk,
    input  wire rst,
    output reg  phy_rst_n,
    output reg  mdc,
    output reg  mdio,      // driven always (the MDIO input buffer is not used)
    output reg  done
);
    localparam S_RST = 2'd0, S_WAIT = 2'd1, S_SEND = 2'd2, S_DONE = 2'd3;
    reg [1:0]     state;
    reg [CNT_W:0] cnt;        // counts down; the top bit sets when it passes zero
    reg [7:0]     div;        // MDC half-period, counts down the same way
    reg           rise;       // next MDC edge is rising
    reg [6:0]     bitn;       // bits left in the frame
    reg [3:0]     wr;         // current write
    reg [63:0]    frame;
    reg [26*N_WRITES-1:0] tbl;  // the writes still to do, current one in the low bits
    wire [26*N_WRITES-1:0] tbl_next = tbl >> 26;

    // 32 preamble ones, start 01, write 01, phy, reg, turnaround 10, data
    function [63:0] mkframe(input [25:0] e);
        mkframe = {32'hFFFFFFFF, 2'b01, 2'b01, e[25:21], e[20:16], 2'b10, e[15:0]};
    endfunction

    always @(posedge clk) begin
        cnt <= cnt - 1'b1;
        case (state)
            S_RST: begin
                phy_rst_n <= 1'b0;
                if (cnt[CNT_W]) begin
                    state <= S_WAIT;
                    cnt <= WAIT_CLKS - 2;
                end
            end
            S_WAIT: begin
                phy_rst_n <= 1'b1;
                div <= MDC_DIV - 2;
                rise <= 1'b0;
                bitn <= 7'd63;
                wr <= 4'd0;
                frame <= mkframe(WRITES[25:0]);
                tbl <= WRITES[26*N_WRITES-1:0];
                if (cnt[CNT_W]) state <= (N_WRITES == 0) ? S_DONE : S_SEND;
            end
            S_SEND: begin
                div <= div - 1'b1;
                if (div[7]) begin
                    div <= MDC_DIV - 2;
                    rise <= !rise;
                    if (!rise) begin
                        mdc <= 1'b0;              // falling edge: next bit out
                        mdio <= frame[63];
                    end else begin
                        mdc <= 1'b1;              // rising edge: the PHY samples
                        frame <= {frame[62:0], 1'b1};
                        bitn <= bitn - 1'b1;
                        if (bitn == 7'd0) begin
                            bitn <= 7'd63;
                            wr <= wr + 1'b1;
                            frame <= mkframe(tbl_next[25:0]);
                            tbl <= tbl_next;
                            if (wr == N_WRITES - 1) state <= S_DONE;
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
            cnt <= RESET_CLKS - 2;
            phy_rst_n <= 1'b0;
            mdc <= 1'b0;
            mdio <= 1'b1;
            done <= 1'b0;
        end
    end
endmodule
`default_nettype wire
