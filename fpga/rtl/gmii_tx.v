// gmii_tx — transmit-only GMII back end (1 GbE: 8 bits at 125 MHz).
// Takes frames without FCS; sends 7 preamble bytes, the SFD, the frame, the
// FCS (CRC-32), then holds TX_EN low for IFG clocks. A frame must arrive
// without gaps once started (the frame FIFO guarantees it); if tvalid drops
// mid-frame anyway, the frame is aborted with TX_ER and `underrun` pulses.
// Frames shorter than 60 bytes are not padded (the filter never passes them).
// Clocked by the local oscillator; nothing comes back from the PHY.
`default_nettype none
module gmii_tx #(
    parameter IFG = 12     // inter-frame gap, bytes (802.3 minimum: 12)
) (
    input  wire       clk,
    input  wire       rst,
    input  wire [7:0] s_axis_tdata,
    input  wire       s_axis_tvalid,
    input  wire       s_axis_tlast,
    output wire       s_axis_tready,
    output reg  [7:0] gmii_txd,
    output reg        gmii_tx_en,
    output reg        gmii_tx_er,
    output reg        underrun      // pulse: a frame was aborted
);
    localparam S_IDLE = 3'd0, S_PRE = 3'd1, S_DATA = 3'd2, S_FCS = 3'd3, S_IFG = 3'd4;
    reg [2:0]  state;
    reg [3:0]  cnt;
    reg [31:0] crc;
    wire [31:0] crc_next;
    eth_crc32_d8 u_crc (.crc_in(crc), .data(s_axis_tdata), .crc_out(crc_next));

    reg st_data;                  // registered: state == S_DATA
    assign s_axis_tready = st_data;

    always @(posedge clk) begin
        gmii_tx_en <= 1'b0;
        gmii_tx_er <= 1'b0;
        gmii_txd   <= 8'h00;
        underrun   <= 1'b0;
        case (state)
            S_IDLE: if (s_axis_tvalid) begin
                state <= S_PRE;
                cnt <= 4'd0;
            end
            S_PRE: begin
                gmii_tx_en <= 1'b1;
                gmii_txd   <= cnt == 4'd7 ? 8'hD5 : 8'h55;
                cnt <= cnt + 4'd1;
                crc <= 32'hFFFFFFFF;
                if (cnt == 4'd7) begin
                    state <= S_DATA;
                    st_data <= 1'b1;
                end
            end
            S_DATA: begin
                gmii_tx_en <= 1'b1;
                if (s_axis_tvalid) begin
                    gmii_txd <= s_axis_tdata;
                    crc <= crc_next;
                    if (s_axis_tlast) begin
                        st_data <= 1'b0;
                        state <= S_FCS;
                        cnt <= 4'd0;
                    end
                end else begin
                    gmii_tx_er <= 1'b1;    // underrun: poison the frame
                    underrun <= 1'b1;
                    st_data <= 1'b0;
                    state <= S_IFG;
                    cnt <= 4'd0;
                end
            end
            S_FCS: begin
                gmii_tx_en <= 1'b1;
                gmii_txd <= ~crc[7:0];
                crc <= {8'hFF, crc[31:8]};
                cnt <= cnt + 4'd1;
                if (cnt == 4'd3) begin
                    state <= S_IFG;
                    cnt <= 4'd0;
                end
            end
            default: begin   // S_IFG
                cnt <= cnt + 4'd1;
                if (cnt == IFG - 1) state <= S_IDLE;
            end
        endcase
        if (rst) begin
            state <= S_IDLE;
            st_data <= 1'b0;
            cnt <= 4'd0;
            gmii_tx_en <= 1'b0;
            gmii_tx_er <= 1'b0;
        end
    end
endmodule
`default_nettype wire
