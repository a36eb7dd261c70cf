// tb_rate_limit — axis_rate_limit in front of gmii_tx, fed back to back.
// Frames of random length are offered continuously; the bytes that pass over
// a long window must stay within the configured rate (wire bytes, overhead
// included) plus the bucket size, and come within 2 % of it (the gate does not
// starve). Frames longer than MAX_LEN are cut (gmii_tx then aborts them).
`timescale 1ns/1ps
`default_nettype none
module tb_rate_limit;
    localparam FRAC = 8, INC = 77, MAXL = 200, OVH = 24;   // 77/256 byte/clk = 30 %
    localparam CAP = 2 * (MAXL + OVH) * 256, START = (MAXL + OVH) * 256;
    reg clk = 0, rst = 1;
    always #4 clk = !clk;
    reg [7:0] d = 0; reg v = 0, l = 0;
    wire r, mv, ml, mr; wire [7:0] md;
    wire [19:0] tokens;
    axis_rate_limit #(.TOK_W(20), .FRAC_BITS(FRAC), .RATE_INC(INC), .MAX_LEN(MAXL), .OVERHEAD(OVH),
                      .LEN_W(9), .CAPACITY(CAP), .START_TOKENS(START)) dut (
        .clk(clk), .rst(rst), .s_axis_tdata(d), .s_axis_tvalid(v), .s_axis_tlast(l), .s_axis_tready(r),
        .m_axis_tdata(md), .m_axis_tvalid(mv), .m_axis_tlast(ml), .m_axis_tready(mr), .tokens(tokens));
    wire [7:0] txd; wire tx_en, tx_er, underrun;
    gmii_tx u_tx (.clk(clk), .rst(rst), .s_axis_tdata(md), .s_axis_tvalid(mv), .s_axis_tlast(ml),
                  .s_axis_tready(mr), .gmii_txd(txd), .gmii_tx_en(tx_en), .gmii_tx_er(tx_er),
                  .underrun(underrun));
    integer mpos = 0, cyc = 0, wire_bytes = 0, errors = 0, aborts = 0, frames = 0;
    real allowed, rate;
    always @(posedge clk) if (!rst) begin
        cyc = cyc + 1;
        if (mv && mr) begin     // what passes the gate, with its wire overhead
            mpos = mpos + 1;
            wire_bytes = wire_bytes + 1 + (mpos == 1 ? OVH : 0);
            if (ml || mpos == MAXL) begin mpos = 0; frames = frames + 1; end
        end
        if (underrun) aborts = aborts + 1;
        allowed = CAP / 256.0 + cyc * INC / 256.0;
        if (wire_bytes > allowed) begin
            if (errors < 3) $display("FAIL: %0d wire bytes in %0d clocks, allowed %f", wire_bytes, cyc, allowed);
            errors = errors + 1;
        end
        if (tokens > CAP) begin errors = errors + 1; $display("FAIL: bucket above capacity"); end
    end
    // source: always valid, random lengths 60..250 (some above MAX_LEN)
    reg [8:0] spos = 0, slen = 60;
    always @(posedge clk) begin
        if (rst) v <= 0;
        else begin
            v <= 1;
            if (v && r) begin
                d <= d + 1;
                if (l) begin
                    spos <= 0;
                    slen <= 60 + ($random & 8'h7f) + ($random & 8'h3f);
                    l <= 0;
                end else begin
                    spos <= spos + 1;
                    l <= spos + 2 == slen;
                end
            end
        end
    end
    initial begin
        repeat (4) @(posedge clk);
        rst = 0;
        repeat (200000) @(posedge clk);
        rate = wire_bytes * 1.0 / cyc;
        if (rate < 0.98 * INC / 256.0) begin
            errors = errors + 1;
            $display("FAIL: rate %f byte/clk, configured %f", rate, INC / 256.0);
        end
        if (aborts == 0) begin errors = errors + 1; $display("FAIL: no oversize frame was cut"); end
        if (errors != 0) $fatal(1, "FAIL: tb_rate_limit: %0d errors", errors);
        $display("PASS: tb_rate_limit (%0d frames, %f byte/clk, configured %f, %0d oversize cut)",
                 frames, rate, INC / 256.0, aborts);
        $finish;
    end
endmodule
`default_nettype wire
