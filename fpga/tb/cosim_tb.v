// cosim_tb — whole-system co-simulation of diode_top.
// Reads a stimulus file (+stim=PATH, written by cosim.py from a pcap file),
// drives the low-side GMII receive pins with preamble, SFD, frame and FCS,
// and records every frame the high side transmits into a response file
// (+resp=PATH) that cosim.py turns back into a pcap file.
//   stimulus, per frame: flags(1) gap(2, BE) len(2, BE) bytes[len]; len 0 ends.
//     flags bit 0: assert RX_ER on byte 20. gap: idle clocks before the frame.
//   response, per frame: start(8, BE, clk_local cycles) len(2, BE) flags(1) bytes[len]
//     (bytes after the SFD, FCS included; flags bit 0: TX_ER seen, bit 1: bad preamble)
// Runs under iverilog and Verilator (--timing); under Verilator the response
// bytes go through a DPI-C helper because $fwrite there drops NUL bytes.
// The end: stimulus exhausted and no transmission for +drain=N local clocks.
`timescale 1ps/1ps
`default_nettype none
module cosim_tb;
    parameter RATE_INC     = 2048;                 // 500 Mb/s at 125 MHz
    parameter FRAC_BITS    = 12;
    parameter MAX_LEN      = 1514;
    parameter CAPACITY     = 2 * (1514 + 24) * 4096;
    parameter START_TOKENS = (1514 + 24) * 4096;
    parameter FIFO_ADDR_W  = 13;
    parameter RX_HALF_PS   = 4000;                 // 125 MHz
    parameter TX_HALF_PS   = 3999;                 // local oscillator 250 ppm fast

`ifdef VERILATOR
    import "DPI-C" function int  cosim_open(input string path);
    import "DPI-C" function void cosim_putc(input int c);
    import "DPI-C" function void cosim_close();
`endif

    reg clk_local = 1'b0, lo_rx_clk = 1'b0, rst_n = 1'b0;
    reg [7:0] lo_rxd = 8'h00;
    reg lo_rx_dv = 1'b0, lo_rx_er = 1'b0;
    always #(RX_HALF_PS) lo_rx_clk = !lo_rx_clk;
    always #(TX_HALF_PS) clk_local = !clk_local;

    wire [7:0] hs_txd;
    wire hs_tx_en, hs_tx_er, hs_gtx_clk;
    wire [31:0] s_rx, s_fcs, s_type, s_len, s_full, s_fwd;
    /* verilator lint_off PINCONNECTEMPTY */
    diode_top #(.RATE_INC(RATE_INC), .FRAC_BITS(FRAC_BITS), .MAX_LEN(MAX_LEN),
                .CAPACITY(CAPACITY), .START_TOKENS(START_TOKENS), .FIFO_ADDR_W(FIFO_ADDR_W),
                .PHY_RESET_CLKS(20), .PHY_WAIT_CLKS(20), .MDC_DIV(2),
                .STAT_DIV(4), .STAT_PERIOD(100000)) dut (
        .clk_local(clk_local), .rst_n(rst_n),
        .lo_rx_clk(lo_rx_clk), .lo_rxd(lo_rxd), .lo_rx_dv(lo_rx_dv), .lo_rx_er(lo_rx_er),
        .lo_gtx_clk(), .lo_txd(), .lo_tx_en(), .lo_tx_er(), .lo_mdc(), .lo_mdio(), .lo_phy_rst_n(),
        .stat_rx_frames(s_rx), .stat_fcs_bad(s_fcs), .stat_drop_type(s_type),
        .stat_drop_len(s_len), .stat_drop_full(s_full), .stat_fwd(s_fwd),
        .stat_uart_txd(), .led_rx(), .led_drop(),
        .hs_gtx_clk(hs_gtx_clk), .hs_txd(hs_txd), .hs_tx_en(hs_tx_en), .hs_tx_er(hs_tx_er),
        .hs_mdc(), .hs_mdio(), .hs_phy_rst_n());
    /* verilator lint_on PINCONNECTEMPTY */

    // ---------------- response writer ----------------
    integer rf;
    task put(input [7:0] b);
    begin
`ifdef VERILATOR
        cosim_putc({24'd0, b});
`else
        $fwrite(rf, "%c", b);
`endif
    end
    endtask

    reg [63:0] cyc = 0;
    always @(posedge clk_local) cyc <= cyc + 1;

    reg [7:0]  obuf [0:16383];
    integer    olen = 0, opre = 0, nout = 0, i;
    reg        oer = 1'b0, obadpre = 1'b0, in_tx = 1'b0, sfd = 1'b0;
    reg [63:0] ostart = 0, last_tx = 0;
    always @(posedge clk_local) begin
        if (hs_tx_en) begin
            last_tx <= cyc;
            if (!in_tx) begin
                in_tx = 1'b1; sfd = 1'b0; olen = 0; opre = 0; oer = 1'b0; obadpre = 1'b0;
                ostart = cyc;
            end
            if (hs_tx_er) oer = 1'b1;
            if (!sfd) begin
                if (hs_txd == 8'hD5) begin
                    sfd = 1'b1;
                    if (opre != 7) obadpre = 1'b1;
                end else begin
                    if (hs_txd != 8'h55) obadpre = 1'b1;
                    opre = opre + 1;
                end
            end else if (olen < 16384) begin
                obuf[olen] = hs_txd;
                olen = olen + 1;
            end
        end else if (in_tx) begin
            in_tx = 1'b0;
            for (i = 7; i >= 0; i = i - 1) put(ostart[8*i +: 8]);
            put(olen[15:8]); put(olen[7:0]);
            put({6'd0, obadpre, oer});
            for (i = 0; i < olen; i = i + 1) put(obuf[i]);
            nout = nout + 1;
        end
    end

    // ---------------- stimulus driver ----------------
    integer sf, c, flags, gap, len, k, nin = 0;
    reg [8*1024-1:0] stim_path, resp_path;
    integer drain;
    reg [63:0] drain64;
    reg done_in = 1'b0;

    function integer getb(input integer f);
        integer v;
        begin
            v = $fgetc(f);
            if (v < 0) begin
                $display("cosim_tb: stimulus file ends early");
                $finish;
            end
            getb = v;
        end
    endfunction

    initial begin
        if (!$value$plusargs("stim=%s", stim_path) || !$value$plusargs("resp=%s", resp_path)) begin
            $display("cosim_tb: usage: +stim=PATH +resp=PATH [+drain=CLOCKS]");
            $finish;
        end
        if (!$value$plusargs("drain=%d", drain)) drain = 20000;
        sf = $fopen(stim_path, "rb");
        if (sf == 0) begin $display("cosim_tb: cannot open %0s", stim_path); $finish; end
`ifdef VERILATOR
        if (cosim_open(resp_path) != 0) begin $display("cosim_tb: cannot create %0s", resp_path); $finish; end
`else
        rf = $fopen(resp_path, "wb");
        if (rf == 0) begin $display("cosim_tb: cannot create %0s", resp_path); $finish; end
`endif
        repeat (5) @(posedge lo_rx_clk);
        rst_n = 1'b1;
        repeat (50) @(posedge lo_rx_clk);
        while (!done_in) begin
            flags = getb(sf);
            gap = getb(sf) * 256; gap = gap + getb(sf);
            len = getb(sf) * 256; len = len + getb(sf);
            if (len == 0) begin
                done_in = 1'b1;
            end else begin
                repeat (gap) @(posedge lo_rx_clk);
                for (k = 0; k < 8; k = k + 1) begin
                    @(posedge lo_rx_clk);
                    #1;
                    lo_rx_dv = 1'b1;
                    lo_rxd = k == 7 ? 8'hD5 : 8'h55;
                end
                for (k = 0; k < len; k = k + 1) begin
                    c = getb(sf);
                    @(posedge lo_rx_clk);
                    #1;
                    lo_rxd = c[7:0];
                    lo_rx_er = (flags & 1) != 0 && k == 20;
                end
                @(posedge lo_rx_clk);
                #1;
                lo_rx_dv = 1'b0;
                lo_rx_er = 1'b0;
                lo_rxd = 8'h00;
                nin = nin + 1;
            end
        end
        // drain: until nothing has been sent for `drain` local clocks
        drain64 = drain;
        @(posedge clk_local);
        while (cyc - last_tx < drain64 || in_tx) @(posedge clk_local);
        $display("cosim_tb: in=%0d out=%0d stat rx=%0d fcs_bad=%0d drop_type=%0d drop_len=%0d drop_full=%0d fwd=%0d",
                 nin, nout, s_rx, s_fcs, s_type, s_len, s_full, s_fwd);
`ifdef VERILATOR
        cosim_close();
`else
        $fclose(rf);
`endif
        $finish;
    end
endmodule
`default_nettype wire
