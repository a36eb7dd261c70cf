// frame_filter — allow-list of what may cross the diode.
// Input: frames without FCS (from eth_fcs_check). Output: the same bytes three
// clocks later; tuser on tlast is set for every frame that is not allowed, so
// the frame FIFO drops it whole. A frame is allowed only if its length (without
// FCS) is within [MIN_LEN, MAX_LEN] and it is either
//   - EtherType SL_ETHERTYPE (sluice's own raw frames), or
//   - EtherType 0x0800, IPv4 version 4 with IHL 5 (no options), a correct
//     header checksum, not fragmented (MF clear, offset 0, reserved bit 0),
//     protocol 17 (UDP), UDP destination port UDP_PORT, and total length /
//     UDP length consistent with the frame (only minimum-size padding allowed).
// Everything else (ARP, IPv6, VLAN tags, LLDP, TCP, ICMP, fragments, ...) is
// marked bad. Frames already marked bad pass through still marked bad, and are
// not counted here (the FCS stage counted them).
// drop_type / drop_len pulse once per frame this stage rejected, with the
// frame's tlast on the output.
`default_nettype none
module frame_filter #(
    parameter [15:0] SL_ETHERTYPE = 16'h88B5, // sluice raw-Ethernet EtherType
    parameter [15:0] UDP_PORT     = 16'd4747, // allowed UDP destination port
    parameter        MIN_LEN      = 60,       // bytes, without FCS
    parameter        MAX_LEN      = 1514,     // bytes, without FCS (9014 for jumbo)
    parameter        LEN_W        = 14        // width of the byte counter (MAX_LEN < 2**LEN_W - 1)
) (
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
    output reg        drop_type,   // pulse: rejected by the protocol allow-list
    output reg        drop_len     // pulse: rejected by the length bounds
);
    reg [LEN_W-1:0] idx;        // index of the current input byte
    reg [39:0]      pos;        // one-hot: pos[i] while idx == i (header bytes only)
    reg [7:0]       prev;       // previous byte (for 16-bit fields)
    reg             is_sl, is_ip;       // EtherType verdicts (valid after byte 13)
    reg             ip_ok;              // every IPv4/UDP check so far
    reg [15:0]      ip_len;             // IPv4 total length
    reg [16:0]      csum;               // ones' complement sum of the IPv4 header
    reg [16:0]      want_m1;            // last byte index implied by ip_len (+13)
    reg             want_small;         // ip_len + 14 < MIN_LEN
    reg [15:0]      udp_len;            // UDP length implied by ip_len (-20)
    reg             ip_short;           // ip_len too small for a UDP header

    // stage 1
    reg [7:0]       d1;
    reg             v1, l1, u1;
    reg [LEN_W-1:0] len1;               // frame length when l1
    reg             sl1, ip1, ipok1, csok1, lenmatch1, pad1;

    // stage 0: the input byte, registered, with its comparisons precomputed
    reg [7:0] d0;
    reg       v0, l0, u0;
    reg       c_45, c_zero, c_17, c_frag, c_port, c_sl, c_ip, c_udplen;
    always @(posedge clk) begin
        v0 <= s_axis_tvalid;
        if (s_axis_tvalid) begin   // d0 and the flags always describe the last valid byte
            d0 <= s_axis_tdata;
            l0 <= s_axis_tlast;
            u0 <= s_axis_tuser;
            c_45   <= s_axis_tdata == 8'h45;
            c_zero <= s_axis_tdata == 8'h00;
            c_17   <= s_axis_tdata == 8'd17;
            c_frag <= s_axis_tdata[7] || s_axis_tdata[5:0] != 6'd0;
            c_port <= {d0, s_axis_tdata} == UDP_PORT;
            c_sl   <= {d0, s_axis_tdata} == SL_ETHERTYPE;
            c_ip   <= {d0, s_axis_tdata} == 16'h0800;
            c_udplen <= {d0, s_axis_tdata} == udp_len && !ip_short;  // udp_len is set at byte 18
        end
        if (rst) v0 <= 1'b0;
    end
    wire [15:0] w16 = {prev, d0};             // 16-bit field ending at this byte
    wire [16:0] csum_add = {1'b0, csum[15:0]} + {1'b0, w16} + {16'd0, csum[16]};

    always @(posedge clk) begin
        v1 <= 1'b0;
        l1 <= 1'b0;
        if (v0) begin
            prev <= d0;
            if (idx != {LEN_W{1'b1}}) idx <= idx + 1'b1;
            if (pos[13]) begin
                is_sl <= c_sl;
                is_ip <= c_ip;
                ip_ok <= 1'b1;
                csum  <= 17'd0;
            end
            if (pos[14] && !c_45) ip_ok <= 1'b0;      // v4, IHL 5
            if (pos[17]) ip_len <= w16;
            if (pos[20] && c_frag) ip_ok <= 1'b0;                     // reserved, MF, offset high
            if (pos[21] && !c_zero) ip_ok <= 1'b0;       // offset low
            if (pos[23] && !c_17) ip_ok <= 1'b0;      // UDP
            if (pos[37] && !c_port) ip_ok <= 1'b0;
            if (pos[39] && !c_udplen) ip_ok <= 1'b0;                   // UDP length
            if (pos[18]) begin
                want_m1  <= {1'b0, ip_len} + 17'd13;      // index of the last byte
                want_small <= ip_len < MIN_LEN - 14;      // frame padded to MIN_LEN
                udp_len  <= ip_len - 16'd20;
                ip_short <= ip_len < 16'd28;
            end
            // header checksum over bytes 14..33, one 16-bit word per odd index
            if (pos[15] | pos[17] | pos[19] | pos[21] | pos[23] | pos[25] | pos[27] |
                pos[29] | pos[31] | pos[33])
                csum <= csum_add;
            pos <= l0 ? 40'd1 : {pos[38:0], 1'b0};

            d1 <= d0;
            v1 <= 1'b1;
            l1 <= l0;
            u1 <= u0;
            len1 <= idx + 1'b1;
            sl1 <= is_sl;
            ip1 <= is_ip;
            ipok1 <= ip_ok;
            csok1 <= (csum[15:0] + {15'd0, csum[16]}) == 16'hFFFF;
            lenmatch1 <= {{(17-LEN_W){1'b0}}, idx} == want_m1;
            pad1 <= (idx == MIN_LEN - 1) && want_small;
            if (l0) idx <= {LEN_W{1'b0}};
        end
        // stage 2
        m_axis_tdata  <= d1;
        m_axis_tvalid <= v1;
        m_axis_tlast  <= v1 & l1;
        m_axis_tuser  <= v1 & l1 & (u1 | !allowed);
        drop_len      <= v1 & l1 & !u1 & !len_ok;
        drop_type     <= v1 & l1 & !u1 & len_ok & !type_ok;
        if (rst) begin
            idx <= {LEN_W{1'b0}};
            pos <= 40'd1;
            is_sl <= 1'b0;
            is_ip <= 1'b0;
            ip_ok <= 1'b0;
            v1 <= 1'b0;
            m_axis_tvalid <= 1'b0;
            m_axis_tlast <= 1'b0;
            m_axis_tuser <= 1'b0;
            drop_len <= 1'b0;
            drop_type <= 1'b0;
        end
    end

    // a frame shorter than 40 bytes never reaches the checks at byte 39, and
    // MIN_LEN >= 60 rejects it by length first
    wire len_ok  = (len1 >= MIN_LEN) && (len1 <= MAX_LEN);
    wire type_ok = (len1 > 13) && (sl1 || (ip1 && ipok1 && csok1 && (lenmatch1 || pad1)));
    wire allowed = len_ok && type_ok;

`ifdef FORMAL
    // ---------------- invariants (fpga/formal/inv.py filter) ----------------
    // After a reset, for any input: a frame marked bad on input leaves marked
    // bad, and a frame that leaves unmarked had an allowed length and EtherType
    // (checked against a shadow count of the input, three clocks earlier).
    reg f_init = 1'b1;
    reg [LEN_W:0] f_cnt = 0;                 // shadow byte count of the input frame
    reg [15:0]    f_type = 0;                // shadow EtherType
    reg [2:0]     f_last = 0, f_bad = 0, f_lenok = 0, f_typeok = 0;  // 3-clock delay lines
    wire [LEN_W:0] f_len = f_cnt + 1'b1;

    wire [15:0]    f_type_now = (f_cnt == 13) ? {f_type[7:0], s_axis_tdata} : f_type;
    always @(posedge clk) begin
        f_init <= 1'b0;
        f_last   <= {f_last[1:0], s_axis_tvalid & s_axis_tlast};
        f_bad    <= {f_bad[1:0], s_axis_tuser};
        f_lenok  <= {f_lenok[1:0], f_len >= MIN_LEN && f_len <= MAX_LEN};
        f_typeok <= {f_typeok[1:0], f_type_now == SL_ETHERTYPE || f_type_now == 16'h0800};
        if (s_axis_tvalid) begin
            f_cnt <= s_axis_tlast ? 0 : (f_cnt == {(LEN_W+1){1'b1}} ? f_cnt : f_cnt + 1'b1);
            if (f_cnt == 12 || f_cnt == 13) f_type <= {f_type[7:0], s_axis_tdata};
        end
        if (rst) begin
            f_cnt <= 0;
            f_last <= 0;
        end
    end
    always @* begin
        if (f_init) assume (rst);
        else assume (!rst);
        if (!f_init) begin
            assert (m_axis_tlast == f_last[2]);
            if (m_axis_tlast && f_bad[2]) assert (m_axis_tuser);
            if (m_axis_tlast && !m_axis_tuser) assert (f_lenok[2] && f_typeok[2]);
        end
    end
`endif
endmodule
`default_nettype wire
