// diode_top — the reference data diode.
//
//   low-side PHY (receive only)                           high-side PHY (transmit only)
//   lo_rx_* -> gmii_rx -> eth_fcs_check -> frame_filter -> axis_async_frame_fifo
//              [lo_rx_clk domain ..........................|.. clk_local domain]
//                                          -> axis_rate_limit -> gmii_tx -> hs_tx_*
//
// The high side has no input port at all: every input below is a low-side pin
// or a board signal (local oscillator, reset button). Counters and LEDs are
// low-side outputs, counted in the low-side receive clock domain. Low-side
// transmit pins are constants. Each PHY gets its own fixed reset/MDIO sequence,
// write-only.
// Port naming is part of the proofs: high-side pins start with hs_, low-side
// pins with lo_, stat_ or led_ (see fpga/formal/).
`default_nettype none
module diode_top #(
    parameter [15:0] SL_ETHERTYPE = 16'h88B5,  // sluice raw-Ethernet EtherType
    parameter [15:0] UDP_PORT     = 16'd4747,  // allowed UDP destination port
    parameter        MIN_LEN      = 60,        // bytes without FCS
    parameter        MAX_LEN      = 1514,      // bytes without FCS (jumbo: 9014)
    parameter        LEN_W        = 14,        // frame length field width
    parameter        FIFO_ADDR_W  = 13,        // frame FIFO 2**FIFO_ADDR_W bytes
    parameter        FIFO_LEN_AW  = 5,         // up to 2**FIFO_LEN_AW frames queued
    parameter        TOK_W        = 24,        // token bucket width (CAPACITY < 2**TOK_W)
    parameter        FRAC_BITS    = 12,        // tokens per wire byte = 2**FRAC_BITS
    parameter        RATE_INC     = 3686,      // tokens per clk_local cycle (900 Mb/s at 125 MHz)
    parameter        CAPACITY     = 2 * (1514 + 24) * 4096, // bucket size, tokens
    parameter        START_TOKENS = (1514 + 24) * 4096,     // tokens to start a frame (>= max frame cost)
    parameter        PHY_RESET_CLKS = 1250000, // PHY reset pulse, clk_local cycles
    parameter        PHY_WAIT_CLKS  = 6250000, // wait after reset before MDIO
    parameter        MDC_DIV      = 50,
    parameter        LO_N_WRITES  = 1,
    // low-side PHY: BMCR = 0x0140: 1000 Mb/s full duplex forced, no auto-negotiation
    parameter [26*8-1:0] LO_WRITES = {{7{26'd0}}, 5'd0, 5'd0, 16'h0140},
    parameter        HS_N_WRITES  = 1,
    parameter [26*8-1:0] HS_WRITES = {{7{26'd0}}, 5'd0, 5'd0, 16'h0140},
    parameter        PHY_CNT_W    = 24,        // PHY_RESET_CLKS, PHY_WAIT_CLKS < 2**PHY_CNT_W
    parameter        STAT_W       = 32,        // counter width, a multiple of 8
    parameter        STAT_DIV     = 1085,      // status UART clocks per bit
    parameter        STAT_PERIOD  = 125000000, // status UART report period, lo_rx_clk cycles
    parameter        STAT_PER_W   = 27         // STAT_PERIOD < 2**STAT_PER_W
) (
    // board
    input  wire        clk_local,      // local 125 MHz oscillator: clocks the transmit side
    input  wire        rst_n,          // board reset, active low
    // low side: GMII receive from PHY A
    input  wire        lo_rx_clk,
    input  wire [7:0]  lo_rxd,
    input  wire        lo_rx_dv,
    input  wire        lo_rx_er,
    // low side: PHY A transmit pins held constant, PHY A management
    output wire        lo_gtx_clk,
    output wire [7:0]  lo_txd,
    output wire        lo_tx_en,
    output wire        lo_tx_er,
    output wire        lo_mdc,
    output wire        lo_mdio,
    output wire        lo_phy_rst_n,
    // low side: status (lo_rx_clk domain)
    output reg  [STAT_W-1:0] stat_rx_frames,   // frames seen (with an SFD)
    output reg  [STAT_W-1:0] stat_fcs_bad,     // bad FCS, RX_ER, runts
    output reg  [STAT_W-1:0] stat_drop_type,   // not on the allow-list
    output reg  [STAT_W-1:0] stat_drop_len,    // outside the length bounds
    output reg  [STAT_W-1:0] stat_drop_full,   // allowed but no room in the FIFO
    output reg  [STAT_W-1:0] stat_fwd,         // committed for transmission
    output wire        stat_uart_txd,
    output wire        led_rx,
    output wire        led_drop,
    // high side: GMII transmit to PHY B, PHY B management (outputs only)
    output wire        hs_gtx_clk,
    output wire [7:0]  hs_txd,
    output wire        hs_tx_en,
    output wire        hs_tx_er,
    output wire        hs_mdc,
    output wire        hs_mdio,
    output wire        hs_phy_rst_n
);
    wire rx_rst, tx_rst;
    reset_sync u_rst_rx (.clk(lo_rx_clk), .arst_n(rst_n), .rst(rx_rst));
    reset_sync u_rst_tx (.clk(clk_local), .arst_n(rst_n), .rst(tx_rst));

    assign lo_gtx_clk = 1'b0;
    assign lo_txd     = 8'h00;
    assign lo_tx_en   = 1'b0;
    assign lo_tx_er   = 1'b0;

    // ---- low-side receive clock domain ----
    wire [7:0] rx_d;  wire rx_v, rx_l, rx_u;
    gmii_rx u_rx (
        .clk(lo_rx_clk), .rst(rx_rst),
        .gmii_rxd(lo_rxd), .gmii_rx_dv(lo_rx_dv), .gmii_rx_er(lo_rx_er),
        .m_axis_tdata(rx_d), .m_axis_tvalid(rx_v), .m_axis_tlast(rx_l), .m_axis_tuser(rx_u));

    wire [7:0] fc_d;  wire fc_v, fc_l, fc_u, fc_bad;
    eth_fcs_check u_fcs (
        .clk(lo_rx_clk), .rst(rx_rst),
        .s_axis_tdata(rx_d), .s_axis_tvalid(rx_v), .s_axis_tlast(rx_l), .s_axis_tuser(rx_u),
        .m_axis_tdata(fc_d), .m_axis_tvalid(fc_v), .m_axis_tlast(fc_l), .m_axis_tuser(fc_u),
        .bad_fcs(fc_bad));

    wire [7:0] fl_d;  wire fl_v, fl_l, fl_u, drop_type, drop_len;
    frame_filter #(.SL_ETHERTYPE(SL_ETHERTYPE), .UDP_PORT(UDP_PORT), .MIN_LEN(MIN_LEN),
                   .MAX_LEN(MAX_LEN), .LEN_W(LEN_W)) u_filter (
        .clk(lo_rx_clk), .rst(rx_rst),
        .s_axis_tdata(fc_d), .s_axis_tvalid(fc_v), .s_axis_tlast(fc_l), .s_axis_tuser(fc_u),
        .m_axis_tdata(fl_d), .m_axis_tvalid(fl_v), .m_axis_tlast(fl_l), .m_axis_tuser(fl_u),
        .drop_type(drop_type), .drop_len(drop_len));

    wire frame_ok, drop_full;
    wire [7:0] q_d;  wire q_v, q_l, q_r;
    axis_async_frame_fifo #(.ADDR_W(FIFO_ADDR_W), .LEN_AW(FIFO_LEN_AW), .LEN_W(LEN_W)) u_fifo (
        .s_clk(lo_rx_clk), .s_rst(rx_rst),
        .s_axis_tdata(fl_d), .s_axis_tvalid(fl_v), .s_axis_tlast(fl_l), .s_axis_tuser(fl_u),
        .s_frame_ok(frame_ok), .s_drop_full(drop_full),
        .m_clk(clk_local), .m_rst(tx_rst),
        .m_axis_tdata(q_d), .m_axis_tvalid(q_v), .m_axis_tlast(q_l), .m_axis_tready(q_r));

    // counters: low side, receive clock
    reg [21:0] act_rx, act_drop;   // LED pulse stretchers
    always @(posedge lo_rx_clk) begin
        if (fc_v && fc_l) stat_rx_frames <= stat_rx_frames + 1'b1;
        if (fc_bad)    stat_fcs_bad   <= stat_fcs_bad + 1'b1;
        if (drop_type) stat_drop_type <= stat_drop_type + 1'b1;
        if (drop_len)  stat_drop_len  <= stat_drop_len + 1'b1;
        if (drop_full) stat_drop_full <= stat_drop_full + 1'b1;
        if (frame_ok)  stat_fwd       <= stat_fwd + 1'b1;
        act_rx   <= frame_ok ? {22{1'b1}} : act_rx - {21'd0, act_rx != 0};
        act_drop <= (fc_bad || drop_type || drop_len || drop_full) ? {22{1'b1}}
                                                                : act_drop - {21'd0, act_drop != 0};
        if (rx_rst) begin
            stat_rx_frames <= 0;
            stat_fcs_bad <= 0;
            stat_drop_type <= 0;
            stat_drop_len <= 0;
            stat_drop_full <= 0;
            stat_fwd <= 0;
            act_rx <= 0;
            act_drop <= 0;
        end
    end
    reg led_rx_r, led_drop_r;                 // registered outputs
    always @(posedge lo_rx_clk) begin
        led_rx_r   <= act_rx != 0;
        led_drop_r <= act_drop != 0;
    end
    assign led_rx   = led_rx_r;
    assign led_drop = led_drop_r;

    status_uart #(.N_CNT(6), .W(STAT_W), .DIV(STAT_DIV), .PERIOD(STAT_PERIOD),
                  .CNT_W(STAT_PER_W)) u_uart (
        .clk(lo_rx_clk), .rst(rx_rst),
        .counters({stat_fwd, stat_drop_full, stat_drop_len, stat_drop_type,
                   stat_fcs_bad, stat_rx_frames}),
        .txd(stat_uart_txd));

    // ---- local transmit clock domain ----
    wire [7:0] rl_d;  wire rl_v, rl_l, rl_r;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [TOK_W-1:0] tokens;             // bucket level: kept for simulation and proofs
    axis_rate_limit #(.TOK_W(TOK_W), .FRAC_BITS(FRAC_BITS), .RATE_INC(RATE_INC),
                      .MAX_LEN(MAX_LEN), .LEN_W(LEN_W), .CAPACITY(CAPACITY),
                      .START_TOKENS(START_TOKENS)) u_rate (
        .clk(clk_local), .rst(tx_rst),
        .s_axis_tdata(q_d), .s_axis_tvalid(q_v), .s_axis_tlast(q_l), .s_axis_tready(q_r),
        .m_axis_tdata(rl_d), .m_axis_tvalid(rl_v), .m_axis_tlast(rl_l), .m_axis_tready(rl_r),
        .tokens(tokens));

    wire underrun;                       // transmit-side status stays on the transmit side
    gmii_tx u_tx (
        .clk(clk_local), .rst(tx_rst),
        .s_axis_tdata(rl_d), .s_axis_tvalid(rl_v), .s_axis_tlast(rl_l), .s_axis_tready(rl_r),
        .gmii_txd(hs_txd), .gmii_tx_en(hs_tx_en), .gmii_tx_er(hs_tx_er), .underrun(underrun));
    assign hs_gtx_clk = clk_local;

    // ---- PHY management, local clock, write-only ----
    wire lo_mdio_done, hs_mdio_done;
    /* verilator lint_on UNUSEDSIGNAL */
    mdio_init #(.N_WRITES(LO_N_WRITES), .WRITES(LO_WRITES), .RESET_CLKS(PHY_RESET_CLKS),
                .WAIT_CLKS(PHY_WAIT_CLKS), .MDC_DIV(MDC_DIV), .CNT_W(PHY_CNT_W)) u_lo_mdio (
        .clk(clk_local), .rst(tx_rst),
        .phy_rst_n(lo_phy_rst_n), .mdc(lo_mdc), .mdio(lo_mdio), .done(lo_mdio_done));
    mdio_init #(.N_WRITES(HS_N_WRITES), .WRITES(HS_WRITES), .RESET_CLKS(PHY_RESET_CLKS),
                .WAIT_CLKS(PHY_WAIT_CLKS), .MDC_DIV(MDC_DIV), .CNT_W(PHY_CNT_W)) u_hs_mdio (
        .clk(clk_local), .rst(tx_rst),
        .phy_rst_n(hs_phy_rst_n), .mdc(hs_mdc), .mdio(hs_mdio), .done(hs_mdio_done));
endmodule
`default_nettype wire
