// status_uart — write-only status line for the low side: every PERIOD clocks
// it snapshots N_CNT counters of W bits and sends them as 8N1 serial bytes:
// 0xA5 0x5A, then each counter big-endian, counter 0 first.
`default_nettype none
module status_uart #(
    parameter N_CNT  = 4,
    parameter W      = 32,          // bits per counter, a multiple of 8
    parameter DIV    = 1085,        // clocks per bit (125 MHz / 115200)
    parameter PERIOD = 125000000,   // clocks between reports (1 s)
    parameter CNT_W  = 27
) (
    input  wire              clk,
    input  wire              rst,
    input  wire [W*N_CNT-1:0] counters,
    output reg               txd
);
    localparam NB = 2 + W / 8 * N_CNT;   // bytes per report
    reg [CNT_W-1:0]      period_cnt;     // counts down to the next report
    reg                  tick;           // registered: period_cnt reached 0
    reg [16:0]           bit_cnt;        // counts down; top bit set: bit time over
    reg [3:0]            bitn;           // 0 start, 1..8 data, 9 stop
    reg [7:0]            byten;
    reg                  busy;
    reg [8*NB-1:0]       snap;           // report, first byte in the top bits
    reg [9:0]            sh;

    always @(posedge clk) begin
        period_cnt <= period_cnt - 1'b1;
        tick <= period_cnt == 0;
        if (period_cnt == 0) period_cnt <= PERIOD - 1;
        if (!busy) begin
            txd <= 1'b1;
            if (tick) begin
                busy <= 1'b1;
                snap <= {16'hA55A, counters_be};
                byten <= 0;
                bitn <= 0;
                bit_cnt <= DIV - 2;
            end
        end else begin
            if (bitn == 0) sh <= {1'b1, snap[8*NB-1 -: 8], 1'b0};
            txd <= bitn == 0 ? 1'b0 : sh[bitn];
            bit_cnt <= bit_cnt - 1'b1;
            if (bit_cnt[16]) begin
                bit_cnt <= DIV - 2;
                bitn <= bitn + 1'b1;
                if (bitn == 4'd9) begin
                    bitn <= 0;
                    snap <= snap << 8;
                    byten <= byten + 1'b1;
                    if (byten == NB - 1) busy <= 1'b0;
                end
            end
        end
        if (rst) begin
            period_cnt <= PERIOD - 1;
            tick <= 1'b0;
            busy <= 1'b0;
            txd <= 1'b1;
        end
    end

    // counter 0 first: reverse the order of the words
    reg [W*N_CNT-1:0] counters_be;
    integer i;
    always @* for (i = 0; i < N_CNT; i = i + 1)
        counters_be[W*(N_CNT-1-i) +: W] = counters[W*i +: W];
endmodule
`default_nettype wire
