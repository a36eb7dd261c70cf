// tb_gmii_loop — gmii_tx -> gmii_rx -> eth_fcs_check, back to back.
// Random frames go out with preamble, SFD and FCS; they must come back
// byte-identical with tuser clear. A frame with a flipped bit on the wire
// (and one with RX_ER) must come back marked bad. Also checks eth_crc32_d8
// against the standard check value CRC-32("123456789") = 0xCBF43926.
`timescale 1ns/1ps
`default_nettype none
module tb_gmii_loop;
    reg clk = 0, rst = 1;
    always #4 clk = !clk;
    integer errors = 0, i, f, n, got, bad_seen;

    // CRC check value
    reg [31:0] c;
    wire [31:0] c_next;
    reg [7:0] cd;
    eth_crc32_d8 u_c (.crc_in(c), .data(cd), .crc_out(c_next));
    initial begin
        c = 32'hFFFFFFFF;
        for (i = 0; i < 9; i = i + 1) begin
            cd = "1" + i;
            #1 c = c_next;
        end
        if (~c != 32'hCBF43926) begin
            $display("FAIL: CRC-32 check value %h", ~c);
            errors = errors + 1;
        end
    end

    reg [7:0] tdata; reg tvalid = 0, tlast = 0; wire tready;
    wire [7:0] txd; wire tx_en, tx_er, underrun;
    gmii_tx u_tx (.clk(clk), .rst(rst), .s_axis_tdata(tdata), .s_axis_tvalid(tvalid),
                  .s_axis_tlast(tlast), .s_axis_tready(tready),
                  .gmii_txd(txd), .gmii_tx_en(tx_en), .gmii_tx_er(tx_er), .underrun(underrun));
    reg corrupt = 0, force_er = 0;
    wire [7:0] rxd = txd ^ {7'd0, corrupt & tx_en};
    wire [7:0] r_d; wire r_v, r_l, r_u;
    gmii_rx u_rx (.clk(clk), .rst(rst), .gmii_rxd(rxd), .gmii_rx_dv(tx_en), .gmii_rx_er(tx_er | force_er),
                  .m_axis_tdata(r_d), .m_axis_tvalid(r_v), .m_axis_tlast(r_l), .m_axis_tuser(r_u));
    wire [7:0] o_d; wire o_v, o_l, o_u, o_bad;
    eth_fcs_check u_fcs (.clk(clk), .rst(rst), .s_axis_tdata(r_d), .s_axis_tvalid(r_v),
                         .s_axis_tlast(r_l), .s_axis_tuser(r_u), .m_axis_tdata(o_d), .m_axis_tvalid(o_v),
                         .m_axis_tlast(o_l), .m_axis_tuser(o_u), .bad_fcs(o_bad));

    reg [7:0] frame [0:2047];
    integer len, pos = 0, frames_back = 0, expect_bad = 0;
    always @(posedge clk) if (o_v) begin
        if (o_d !== frame[pos]) begin
            if (!expect_bad) begin
                $display("FAIL: frame %0d byte %0d: got %h want %h", frames_back, pos, o_d, frame[pos]);
                errors = errors + 1;
            end
        end
        pos = pos + 1;
        if (o_l) begin
            if (pos != len && !expect_bad) begin
                $display("FAIL: frame %0d came back with %0d bytes, sent %0d", frames_back, pos, len);
                errors = errors + 1;
            end
            if (o_u != expect_bad) begin
                $display("FAIL: frame %0d tuser=%b, expected %0d", frames_back, o_u, expect_bad);
                errors = errors + 1;
            end
            pos = 0;
            frames_back = frames_back + 1;
        end
    end

    task send(input integer l);
        integer k;
        begin
            len = l;
            for (k = 0; k < l; k = k + 1) frame[k] = $random;
            @(posedge clk); #1 tvalid = 1; tdata = frame[0]; tlast = l == 1;
            k = 0;
            while (k < l) begin
                @(posedge clk);
                if (tready) begin
                    k = k + 1;
                    #1 tdata = frame[k]; tlast = k == l - 1; tvalid = k < l;
                end
            end
            #1 tvalid = 0; tlast = 0;
            repeat (40) @(posedge clk);
        end
    endtask

    initial begin
        repeat (4) @(posedge clk);
        rst = 0;
        for (f = 0; f < 30; f = f + 1) send(60 + ($random & 1023));
        expect_bad = 1;
        fork
            send(100);
            begin repeat (40) @(posedge clk); corrupt = 1; @(posedge clk); corrupt = 0; end
        join
        fork
            send(100);
            begin repeat (40) @(posedge clk); force_er = 1; @(posedge clk); force_er = 0; end
        join
        if (frames_back != 32) begin
            $display("FAIL: %0d frames came back, sent 32", frames_back);
            errors = errors + 1;
        end
        if (errors != 0) $fatal(1, "FAIL: tb_gmii_loop: %0d errors", errors);
        $display("PASS: tb_gmii_loop (32 frames)");
        $finish;
    end
endmodule
`default_nettype wire
