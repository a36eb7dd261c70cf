// reset_sync — asynchronous assert, synchronous release, per clock domain.
`default_nettype none
module reset_sync #(
    parameter STAGES = 3
) (
    input  wire clk,
    input  wire arst_n,   // board reset, active low, asynchronous
    output wire rst       // active high, released synchronously to clk
);
    (* ASYNC_REG = "TRUE" *) reg [STAGES-1:0] sr;
    always @(posedge clk or negedge arst_n)
        if (!arst_n) sr <= {STAGES{1'b1}};
        else         sr <= {sr[STAGES-2:0], 1'b0};
    assign rst = sr[STAGES-1];
endmodule
`default_nettype wire
