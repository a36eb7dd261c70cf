// diode_hx8k — board-level wrapper of diode_top for synthesis on an iCE40
// HX8K: the same design with the status counters leaving through the low-side
// status UART only (the 32-bit counter buses would need 192 pins).
`default_nettype none
module diode_hx8k (
    input  wire       clk_local,
    input  wire       rst_n,
    input  wire       lo_rx_clk,
    input  wire [7:0] lo_rxd,
    input  wire       lo_rx_dv,
    input  wire       lo_rx_er,
    output wire       lo_gtx_clk,
    output wire [7:0] lo_txd,
    output wire       lo_tx_en,
    output wire       lo_tx_er,
    output wire       lo_mdc,
    output wire       lo_mdio,
    output wire       lo_phy_rst_n,
    output wire       stat_uart_txd,
    output wire       led_rx,
    output wire       led_drop,
    output wire       hs_gtx_clk,
    output wire [7:0] hs_txd,
    output wire       hs_tx_en,
    output wire       hs_tx_er,
    output wire       hs_mdc,
    output wire       hs_mdio,
    output wire       hs_phy_rst_n
);
    /* verilator lint_off PINCONNECTEMPTY */
    diode_top u (
        .clk_local(clk_local), .rst_n(rst_n),
        .lo_rx_clk(lo_rx_clk), .lo_rxd(lo_rxd), .lo_rx_dv(lo_rx_dv), .lo_rx_er(lo_rx_er),
        .lo_gtx_clk(lo_gtx_clk), .lo_txd(lo_txd), .lo_tx_en(lo_tx_en), .lo_tx_er(lo_tx_er),
        .lo_mdc(lo_mdc), .lo_mdio(lo_mdio), .lo_phy_rst_n(lo_phy_rst_n),
        .stat_rx_frames(), .stat_fcs_bad(), .stat_drop_type(), .stat_drop_len(),
        .stat_drop_full(), .stat_fwd(),
        .stat_uart_txd(stat_uart_txd), .led_rx(led_rx), .led_drop(led_drop),
        .hs_gtx_clk(hs_gtx_clk), .hs_txd(hs_txd), .hs_tx_en(hs_tx_en), .hs_tx_er(hs_tx_er),
        .hs_mdc(hs_mdc), .hs_mdio(hs_mdio), .hs_phy_rst_n(hs_phy_rst_n));
    /* verilator lint_on PINCONNECTEMPTY */
endmodule
`default_nettype wire
