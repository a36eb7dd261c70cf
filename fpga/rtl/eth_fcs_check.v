// eth_fcs_check — checks and strips the Ethernet FCS.
// Input: frames with their 4 FCS bytes (from gmii_rx). Output: the same frames
// without the FCS, two clocks later; tuser on tlast is set when the CRC-32
// residue is wrong, when the input already marked the frame bad, or when the
// frame is a runt of 4 bytes or fewer (then one dummy byte carries
// tlast+tuser, so that every input frame yields exactly one output frame).
// bad_fcs pulses once per frame that leaves marked bad (for the counters).
// No tready: like gmii_rx, this stage accepts a byte every clock.
`default_nettype none
module eth_fcs_check (
    input  wire       clk,
    input  wire       rst,
    input  wire [7:0] s_axis_tdata,
    input  wire       s_axis_tvalid,
    input  wire       s_axis_tlast,
    input  wire       s_axis_tuser,
    output reg  [7:0] m_axis_tdata,
    output reg        m_axis_tvalid,
    output reg        m_axis_tlast,
    output reg        m_axis_tuser,
    output reg        bad_fcs        // one-clock pulse per bad frame (CRC, RX_ER or runt)
);
    localparam [31:0] RESIDUE = 32'hDEBB20E3;

    reg  [31:0] dly;       // last four input bytes, dly[7:0] the oldest
    reg  [2:0]  cnt;       // bytes in dly (saturates at 4)
    reg         sof;       // next input byte starts a frame
    reg  [31:0] crc;
    wire [31:0] crc_next;
    eth_crc32_d8 u_crc (.crc_in(sof ? 32'hFFFFFFFF : crc), .data(s_axis_tdata), .crc_out(crc_next));

    // stage 1: the byte leaving the delay line
    reg [7:0] d1;
    reg       v1, l1, u1;

    always @(posedge clk) begin
        v1 <= 1'b0;
        l1 <= 1'b0;
        u1 <= 1'b0;
        if (s_axis_tvalid) begin
            crc <= crc_next;
            sof <= s_axis_tlast;
            dly <= {s_axis_tdata, dly[31:8]};
            if (cnt != 3'd4) cnt <= cnt + 3'd1;
            if (s_axis_tlast) cnt <= 3'd0;
            if (cnt == 3'd4) begin
                d1 <= dly[7:0];
                v1 <= 1'b1;
                l1 <= s_axis_tlast;
                u1 <= s_axis_tuser;
            end else if (s_axis_tlast) begin
                d1 <= 8'h00;          // runt: one dummy byte, marked bad
                v1 <= 1'b1;
                l1 <= 1'b1;
                u1 <= 1'b1;
            end
        end
        // stage 2: registered output; crc now holds the value after the last byte
        m_axis_tdata  <= d1;
        m_axis_tvalid <= v1;
        m_axis_tlast  <= v1 & l1;
        m_axis_tuser  <= v1 & l1 & (u1 | (crc != RESIDUE));
        bad_fcs       <= v1 & l1 & (u1 | (crc != RESIDUE));
        if (rst) begin
            cnt <= 3'd0;
            sof <= 1'b1;
            v1 <= 1'b0;
            m_axis_tvalid <= 1'b0;
            m_axis_tlast <= 1'b0;
            m_axis_tuser <= 1'b0;
            bad_fcs <= 1'b0;
        end
    end
endmodule
`default_nettype wire
