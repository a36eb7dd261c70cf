// tb_frame_filter — frame_filter against vectors written by
// `cosim.py filtervec FILE` (+vec=FILE): allowed UDP/4747 and sluice frames
// must pass unmarked; ARP, IPv6, LLDP, foreign port, TCP, IPv4 options,
// fragments, bad header checksum, VLAN, lying lengths, oversize, undersize
// must leave marked bad, counted once on the right counter.
`timescale 1ns/1ps
`default_nettype none
module tb_frame_filter;
    reg clk = 0, rst = 1;
    always #4 clk = !clk;
    reg [7:0] d; reg v = 0, l = 0, u = 0;
    wire [7:0] md; wire mv, ml, mu, dt, dl;
    frame_filter dut (.clk(clk), .rst(rst), .s_axis_tdata(d), .s_axis_tvalid(v), .s_axis_tlast(l),
                      .s_axis_tuser(u), .m_axis_tdata(md), .m_axis_tvalid(mv), .m_axis_tlast(ml),
                      .m_axis_tuser(mu), .drop_type(dt), .drop_len(dl));
    integer fd, verdict, len, i, b, r, nf = 0, errors = 0, ntype = 0, nlen = 0, seen_last = 0, seen_user = 0;
    integer want_type = 0, want_len = 0;
    reg [8*512-1:0] path;
    always @(posedge clk) begin
        if (dt) ntype = ntype + 1;
        if (dl) nlen = nlen + 1;
        if (mv && ml) begin seen_last = seen_last + 1; seen_user = mu; end
    end
    initial begin
        if (!$value$plusargs("vec=%s", path)) $fatal(1, "usage: +vec=FILE");
        fd = $fopen(path, "r");
        if (fd == 0) $fatal(1, "cannot open %0s", path);
        repeat (3) @(posedge clk);
        rst = 0;
        r = $fscanf(fd, "%d %d\n", verdict, len);
        while (verdict != 9) begin
            seen_last = 0;
            for (i = 0; i < len; i = i + 1) begin
                r = $fscanf(fd, "%h\n", b);
                @(posedge clk); #1 d = b; v = 1; l = i == len - 1;
            end
            @(posedge clk); #1 v = 0; l = 0;
            repeat (6) @(posedge clk);
            if (verdict == 1) want_type = want_type + 1;
            if (verdict == 2) want_len = want_len + 1;
            if (seen_last != 1 || seen_user != (verdict != 0)) begin
                errors = errors + 1;
                $display("FAIL: frame %0d (verdict %0d, %0d bytes): tlast %0d, tuser %0d", nf, verdict, len, seen_last, seen_user);
            end
            nf = nf + 1;
            r = $fscanf(fd, "%d %d\n", verdict, len);
        end
        if (ntype != want_type || nlen != want_len) begin
            errors = errors + 1;
            $display("FAIL: counted %0d type / %0d length drops, want %0d / %0d", ntype, nlen, want_type, want_len);
        end
        if (nf < 10) begin errors = errors + 1; $display("FAIL: only %0d vectors", nf); end
        if (errors != 0) $fatal(1, "FAIL: tb_frame_filter: %0d errors", errors);
        $display("PASS: tb_frame_filter (%0d frames: %0d allowed, %0d type, %0d length)",
                 nf, nf - want_type - want_len, want_type, want_len);
        $finish;
    end
endmodule
`default_nettype wire
