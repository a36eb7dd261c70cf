// tb_mdio_init — the PHY bring-up sequence: reset low for RESET_CLKS, then
// each MDIO write as a clause-22 frame (32 ones, 01, 01, phy, reg, 10, data)
// sampled on rising MDC edges, then MDIO idle high and done.
`timescale 1ns/1ps
`default_nettype none
module tb_mdio_init;
    reg clk = 0, rst = 1;
    always #4 clk = !clk;
    localparam [26*8-1:0] W = {{6{26'd0}}, 5'd3, 5'd9, 16'h0200, 5'd1, 5'd0, 16'h0140};
    wire rst_n, mdc, mdio, done;
    mdio_init #(.N_WRITES(2), .WRITES(W), .RESET_CLKS(20), .WAIT_CLKS(10), .MDC_DIV(3), .CNT_W(6)) dut (
        .clk(clk), .rst(rst), .phy_rst_n(rst_n), .mdc(mdc), .mdio(mdio), .done(done));
    reg [63:0] sh = 0;
    integer nbits = 0, nframes = 0, errors = 0, low = 0;
    always @(posedge clk) if (!rst && !rst_n) low = low + 1;
    always @(posedge mdc) begin
        sh = {sh[62:0], mdio};
        nbits = nbits + 1;
        if (nbits % 64 == 0) begin
            if (sh !== {32'hFFFFFFFF, 2'b01, 2'b01, W[nframes*26+21 +: 5], W[nframes*26+16 +: 5],
                        2'b10, W[nframes*26 +: 16]}) begin
                errors = errors + 1;
                $display("FAIL: MDIO frame %0d = %h", nframes, sh);
            end
            nframes = nframes + 1;
        end
    end
    initial begin
        repeat (3) @(posedge clk);
        rst = 0;
        repeat (2000) @(posedge clk);
        if (low < 19 || low > 21) begin errors = errors + 1; $display("FAIL: reset held %0d clocks", low); end
        if (nframes != 2 || nbits != 128) begin
            errors = errors + 1;
            $display("FAIL: %0d frames, %0d bits", nframes, nbits);
        end
        if (!done || mdio !== 1'b1 || !rst_n) begin errors = errors + 1; $display("FAIL: not idle at the end"); end
        if (errors != 0) $fatal(1, "FAIL: tb_mdio_init: %0d errors", errors);
        $display("PASS: tb_mdio_init (reset %0d clocks, %0d MDIO writes)", low, nframes);
        $finish;
    end
endmodule
`default_nettype wire
