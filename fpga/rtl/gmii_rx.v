// gmii_rx — receive-only GMII front end (1 GbE: 8 bits at 125 MHz).
// Registers the PHY pins, waits for the start-of-frame delimiter (0xD5) after
// any number of preamble bytes, and emits the frame (destination MAC through
// FCS) as a byte stream. tlast marks the last byte while RX_DV was high; tuser
// on tlast is set if RX_ER was seen inside the frame. A carrier without an SFD
// (false carrier, 0x55 noise) emits nothing.
// The stream cannot be stalled: there is no tready. Everything downstream in
// the receive clock domain accepts one byte per clock.
`default_nettype none
module gmii_rx (
    input  wire       clk,          // RX_CLK from the low-side PHY
    input  wire       rst,          // synchronous to clk, active high
    input  wire [7:0] gmii_rxd,
    input  wire       gmii_rx_dv,
    input  wire       gmii_rx_er,
    output reg  [7:0] m_axis_tdata,
    output reg        m_axis_tvalid,
    output reg        m_axis_tlast,
    output reg        m_axis_tuser  // bad frame (RX_ER), valid with tlast
);
    // input registers (IOB flip-flops on a real part)
    reg [7:0] rxd_r;
    reg       dv_r, er_r;
    // one byte held back so that tlast can be attached when RX_DV falls
    reg [7:0] hold;
    reg       hold_v;
    reg       in_frame;   // SFD seen, RX_DV still high
    reg       err;        // RX_ER seen in this frame

    always @(posedge clk) begin
        rxd_r <= gmii_rxd;
        dv_r  <= gmii_rx_dv;
        er_r  <= gmii_rx_er;
        m_axis_tvalid <= 1'b0;
        m_axis_tlast  <= 1'b0;
        m_axis_tuser  <= 1'b0;
        if (rst) begin
            dv_r <= 1'b0;
            hold_v <= 1'b0;
            in_frame <= 1'b0;
            err <= 1'b0;
        end else if (!in_frame) begin
            hold_v <= 1'b0;
            err <= 1'b0;
            if (dv_r && rxd_r == 8'hD5)
                in_frame <= 1'b1;
        end else if (dv_r) begin
            // a byte of the frame: emit the previous one
            hold   <= rxd_r;
            hold_v <= 1'b1;
            if (er_r) err <= 1'b1;
            if (hold_v) begin
                m_axis_tdata  <= hold;
                m_axis_tvalid <= 1'b1;
            end
        end else begin
            // RX_DV fell: the held byte is the last one
            in_frame <= 1'b0;
            hold_v   <= 1'b0;
            err      <= 1'b0;
            if (hold_v) begin
                m_axis_tdata  <= hold;
                m_axis_tvalid <= 1'b1;
                m_axis_tlast  <= 1'b1;
                m_axis_tuser  <= err;
            end
        end
    end
endmodule
`default_nettype wire
