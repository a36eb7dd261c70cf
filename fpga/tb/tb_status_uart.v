// tb_status_uart — decodes the 8N1 status line and compares each report with
// the counters it was given: 0xA5 0x5A, then each counter big-endian.
`timescale 1ns/1ps
`default_nettype none
module tb_status_uart;
    reg clk = 0, rst = 1;
    always #4 clk = !clk;
    localparam DIV = 7;
    reg [95:0] cnt = {32'h01020304, 32'hA0B0C0D0, 32'h00FF00FF};
    wire txd;
    status_uart #(.N_CNT(3), .W(32), .DIV(DIV), .PERIOD(2000), .CNT_W(12)) dut (
        .clk(clk), .rst(rst), .counters(cnt), .txd(txd));
    reg [7:0] got [0:63];
    integer n = 0, i, k, errors = 0;
    reg [7:0] b;
    initial begin : rx
        forever begin
            @(negedge txd);
            repeat (DIV / 2) @(posedge clk);
            if (txd !== 1'b0) begin errors = errors + 1; $display("FAIL: bad start bit"); end
            for (k = 0; k < 8; k = k + 1) begin
                repeat (DIV) @(posedge clk);
                b[k] = txd;
            end
            repeat (DIV) @(posedge clk);
            if (txd !== 1'b1) begin errors = errors + 1; $display("FAIL: bad stop bit"); end
            if (n < 64) got[n] = b;
            n = n + 1;
        end
    end
    reg [8*14-1:0] want;
    initial begin
        repeat (3) @(posedge clk);
        rst = 0;
        repeat (3200) @(posedge clk);
        // counter 0 is the low word
        want = {16'hA55A, cnt[31:0], cnt[63:32], cnt[95:64]};
        if (n != 14) begin errors = errors + 1; $display("FAIL: %0d bytes in the first report", n); end
        for (i = 0; i < 14 && i < n; i = i + 1)
            if (got[i] !== want[8*(13-i) +: 8]) begin
                errors = errors + 1;
                $display("FAIL: byte %0d = %h, want %h", i, got[i], want[8*(13-i) +: 8]);
            end
        if (errors != 0) $fatal(1, "FAIL: tb_status_uart: %0d errors", errors);
        $display("PASS: tb_status_uart (%0d bytes)", n);
        $finish;
    end
endmodule
`default_nettype wire
