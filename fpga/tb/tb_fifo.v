// tb_fifo — axis_async_frame_fifo with two unrelated clocks.
// Random frames, some marked bad (tuser), some arriving while the reader is
// stalled so that the FIFO fills. Checks: every frame that comes out is a good
// input frame, byte-identical, in order, without gaps; frames committed
// (s_frame_ok) == frames out; every good frame is either out or counted as a
// drop (s_drop_full); bad frames never come out.
`timescale 1ns/1ps
`default_nettype none
module tb_fifo;
    reg s_clk = 0, m_clk = 0, rst = 1;
    always #4 s_clk = !s_clk;
    always #3.7 m_clk = !m_clk;
    reg [7:0] d; reg v = 0, l = 0, u = 0;
    wire ok, drop;
    wire [7:0] q; wire qv, ql; reg qr = 1;
    axis_async_frame_fifo #(.ADDR_W(9), .LEN_AW(3), .LEN_W(11)) dut (
        .s_clk(s_clk), .s_rst(rst), .s_axis_tdata(d), .s_axis_tvalid(v), .s_axis_tlast(l),
        .s_axis_tuser(u), .s_frame_ok(ok), .s_drop_full(drop),
        .m_clk(m_clk), .m_rst(rst), .m_axis_tdata(q), .m_axis_tvalid(qv), .m_axis_tlast(ql),
        .m_axis_tready(qr));

    // every good frame sent: seed and length; the output is matched in order
    integer seeds [0:999], lens [0:999];
    integer ngood = 0, nout = 0, nok = 0, ndrop = 0, errors = 0, opos = 0, cand = 0, gaps = 0;
    reg in_out = 0;
    reg [31:0] r;
    function [7:0] byte_of(input integer seed, input integer i);
        byte_of = (i == 0) ? seed[7:0] : ((seed * 7 + i * 13 + (i >> 3)) & 255);
    endfunction
    always @(posedge s_clk) begin
        if (ok) nok = nok + 1;
        if (drop) ndrop = ndrop + 1;
    end
    always @(posedge m_clk) begin
        if (in_out && !qv && qr) gaps = gaps + 1;     // a gap inside a frame
        if (qv && qr) begin
            // skip frames that were dropped: find the candidate this frame starts as
            if (opos == 0)
                while (cand < ngood && q !== byte_of(seeds[cand], 0)) cand = cand + 1;
            if (cand >= ngood || q !== byte_of(seeds[cand], opos)) begin
                errors = errors + 1;
                if (errors < 5) $display("FAIL: output frame %0d byte %0d: %h, candidate %0d (seed %0d len %0d) wants %h", nout, opos, q, cand, seeds[cand], lens[cand], byte_of(seeds[cand], opos));
            end
            opos = opos + 1;
            in_out = !ql;
            if (ql) begin
                if (opos != lens[cand]) begin
                    errors = errors + 1;
                    $display("FAIL: output frame %0d has %0d bytes, want %0d", nout, opos, lens[cand]);
                end
                nout = nout + 1; opos = 0; cand = cand + 1;
            end
        end
    end

    task send(input integer seed, input integer len, input bad);
        integer i;
        begin
            if (!bad) begin seeds[ngood] = seed; lens[ngood] = len; ngood = ngood + 1; end
            for (i = 0; i < len; i = i + 1) begin
                @(posedge s_clk); #1;
                // bad frames start with 0xFF, which no good frame does (seeds < 255)
                d = bad ? 8'hFF : byte_of(seed, i); v = 1; l = i == len - 1; u = bad && i == len - 1;
            end
            @(posedge s_clk); #1 v = 0; l = 0; u = 0;
            repeat (3 + ($random & 7)) @(posedge s_clk);
        end
    endtask

    integer f;
    initial begin
        repeat (5) @(posedge s_clk);
        rst = 0;
        repeat (5) @(posedge s_clk);
        for (f = 0; f < 200; f = f + 1) begin
            r = $random;
            if (f == 60) qr = 0;            // stall the reader: the FIFO fills, frames drop
            if (f == 90) qr = 1;
            if (f > 120) qr = r[20];        // random backpressure
            send(f, 14 + (r[7:0] % 150), r[10:8] == 0);
        end
        qr = 1;
        repeat (3000) @(posedge m_clk);
        if (nout != nok) begin errors = errors + 1; $display("FAIL: %0d out, %0d committed", nout, nok); end
        if (nok + ndrop != ngood) begin
            errors = errors + 1;
            $display("FAIL: %0d committed + %0d dropped != %0d good frames", nok, ndrop, ngood);
        end
        if (ndrop == 0) begin errors = errors + 1; $display("FAIL: the stall produced no drops"); end
        if (gaps != 0) begin errors = errors + 1; $display("FAIL: %0d gaps inside frames", gaps); end
        if (errors != 0) $fatal(1, "FAIL: tb_fifo: %0d errors", errors);
        $display("PASS: tb_fifo (%0d good frames: %0d out, %0d dropped when full)", ngood, nout, ndrop);
        $finish;
    end
endmodule
`default_nettype wire
