// eth_crc32_d8 — one byte step of the Ethernet CRC-32 (IEEE 802.3,
// reflected polynomial 0xEDB88320, LSB first). Purely combinational.
// The caller keeps the register: start at 32'hFFFFFFFF; the FCS sent on the
// wire is ~crc, low byte first. Running the register over a frame *and* its
// FCS leaves the residue 32'hDEBB20E3 when the FCS is right.
`default_nettype none
module eth_crc32_d8 (
    input  wire [31:0] crc_in,   // current register
    input  wire [7:0]  data,     // next byte, as received (bit 0 first on the wire)
    output reg  [31:0] crc_out   // register after the byte
);
    integer i;
    reg [31:0] c;
    always @* begin
        c = crc_in;
        for (i = 0; i < 8; i = i + 1)
            c = (c[0] ^ data[i]) ? ((c >> 1) ^ 32'hEDB88320) : (c >> 1);
        crc_out = c;
    end
endmodule
`default_nettype wire
