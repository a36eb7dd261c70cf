// axis_rate_limit — token-bucket gate on whole frames, in wire time.
// Tokens are bytes of wire time in fixed point (2**FRAC_BITS per byte). The
// bucket gains RATE_INC every clock up to CAPACITY. A frame may start only when
// the bucket holds START_TOKENS (at least the cost of the longest frame,
// MAX_LEN + OVERHEAD bytes); it then pays OVERHEAD bytes (preamble 8, FCS 4,
// inter-frame gap 12 = 24) plus one byte per data byte, so the bucket never
// goes below zero and the output never exceeds RATE_INC/2**FRAC_BITS bytes per
// clock in the long run, with at most CAPACITY tokens of burst.
// A frame longer than MAX_LEN is cut off: the gate closes (gmii_tx then
// aborts the frame with TX_ER) and the rest of the frame is discarded, unpaid,
// so that the bucket cannot underflow.
// This stage is a gate: tdata/tlast pass through combinationally; the gating
// signal is a register.
`default_nettype none
module axis_rate_limit #(
    parameter TOK_W        = 24,     // token counter width (CAPACITY < 2**TOK_W)
    parameter FRAC_BITS    = 12,     // tokens per byte = 2**FRAC_BITS
    parameter RATE_INC     = 3686,   // tokens per clock (0.9 * 8 bit/clk at 125 MHz = 900 Mb/s)
    parameter MAX_LEN      = 1514,   // longest frame, bytes without FCS
    parameter OVERHEAD     = 24,     // preamble+SFD 8, FCS 4, IFG 12
    parameter LEN_W        = 14,
    parameter CAPACITY     = 2 * (1514 + 24) * 4096,   // bucket size, tokens
    parameter START_TOKENS = (1514 + 24) * 4096        // needed to start a frame
) (
    input  wire       clk,
    input  wire       rst,
    input  wire [7:0] s_axis_tdata,
    input  wire       s_axis_tvalid,
    input  wire       s_axis_tlast,
    output wire       s_axis_tready,
    output wire [7:0] m_axis_tdata,
    output wire       m_axis_tvalid,
    output wire       m_axis_tlast,
    input  wire       m_axis_tready,
    output reg  [TOK_W-1:0] tokens   // bucket level (for status and proofs)
);
    localparam [TOK_W-1:0] BYTE  = 1 << FRAC_BITS;
    localparam [TOK_W-1:0] INC   = RATE_INC;
    localparam [TOK_W-1:0] OVH   = OVERHEAD * (1 << FRAC_BITS);
    localparam [TOK_W-1:0] CAP   = CAPACITY[TOK_W-1:0];
    localparam [TOK_W-1:0] START = START_TOKENS[TOK_W-1:0];

    reg             in_frame;    // a frame has started and its tlast not yet passed
    /* verilator lint_off UNUSEDSIGNAL */
    reg             go;          // (kept for the proofs) registered: bucket holds START tokens, nothing owed
    /* verilator lint_on UNUSEDSIGNAL */
    reg             near_cap;    // registered: within 2*INC of CAPACITY, stop adding
    reg             paid_byte;   // a byte passed last clock (charged this clock)
    reg             paid_start;  // a frame started last clock
    reg             paid_byte_d, paid_start_d;   // ... one clock earlier
    reg             ge_start;    // registered: tokens >= START, one clock ago
    reg [LEN_W-1:0] left;        // bytes this frame may still pass, after the first
    reg             room;        // registered: left != 0

    reg  open;                           // registered: in_frame ? room : go
    reg  cut;                            // registered: in_frame && !room (rest of an oversize frame: discarded)
    assign s_axis_tready = cut || (m_axis_tready && open);
    assign m_axis_tvalid = s_axis_tvalid && open;
    assign m_axis_tdata  = s_axis_tdata;
    assign m_axis_tlast  = s_axis_tlast;
    wire take  = s_axis_tvalid && s_axis_tready;     // input byte consumed
    wire xfer  = m_axis_tvalid && m_axis_tready;     // byte passed on (and paid for)
    wire start = xfer && !in_frame;

    // next values of the gate state (the gate itself is a register)
    wire in_frame_n = take ? !s_axis_tlast : in_frame;
    wire room_n     = xfer ? (start ? MAX_LEN > 1 : left != 1) : room;
    // ge_start compares last clock's level; it is still a lower bound now
    // unless a charge was applied at this edge (paid_*_d)
    wire go_n       = !in_frame && !start && !paid_byte && !paid_start &&
                      !paid_byte_d && !paid_start_d && ge_start;

    // the change this clock, from registered terms only: one adder
    reg [TOK_W-1:0] delta;
    always @* begin
        case ({near_cap, paid_byte, paid_start})
            3'b000: delta = INC;
            3'b001: delta = INC - OVH;
            3'b010: delta = INC - BYTE;
            3'b011: delta = INC - BYTE - OVH;
            3'b100: delta = {TOK_W{1'b0}};
            3'b101: delta = {TOK_W{1'b0}} - OVH;
            3'b110: delta = {TOK_W{1'b0}} - BYTE;
            default: delta = {TOK_W{1'b0}} - BYTE - OVH;
        endcase
    end

    always @(posedge clk) begin
        paid_byte  <= xfer;
        paid_start <= start;
        paid_byte_d  <= paid_byte;
        paid_start_d <= paid_start;
        ge_start   <= tokens >= START;
        tokens   <= tokens + delta;
        near_cap <= tokens >= CAP - 2 * INC;
        go       <= go_n;
        in_frame <= in_frame_n;
        room     <= room_n;
        open     <= in_frame_n ? room_n : go_n;
        cut      <= in_frame_n && !room_n;
        if (xfer) left <= start ? MAX_LEN - 1 : left - 1'b1;
        if (rst) begin
            tokens <= 0;
            near_cap <= 1'b0;
            go <= 1'b0;
            in_frame <= 1'b0;
            left <= 0;
            room <= 1'b0;
            open <= 1'b0;
            cut <= 1'b0;
            paid_byte <= 1'b0;
            paid_start <= 1'b0;
            paid_byte_d <= 1'b0;
            paid_start_d <= 1'b0;
            ge_start <= 1'b0;
        end
    end

`ifdef FORMAL
    // ---------------- invariants (fpga/formal/inv.py rate) ----------------
    // From the reset state (all zero), for any input: the bucket never holds
    // more than CAPACITY and the charge for a frame is never more than what it
    // holds (the level never wraps below zero).
    localparam W = TOK_W + LEN_W + FRAC_BITS + 2;
    wire [W-1:0] f_tok  = tokens;
    wire [W-1:0] f_owed = (paid_byte ? BYTE : 0) + (paid_start ? OVH : 0);
    wire [W-1:0] f_left = room ? left : 0;
    always @* begin
        assume (!rst);
        assert (START_TOKENS >= (MAX_LEN + OVERHEAD) * (1 << FRAC_BITS));  // configuration
        assert (CAPACITY >= START_TOKENS && CAPACITY > 2 * RATE_INC);
        assert (f_tok <= CAP);
        assert (near_cap || f_tok + INC < CAP);
        assert (f_tok >= f_owed);                          // never below zero
        assert (room == (left != 0));
        assert (open == (in_frame ? room : go) && cut == (in_frame && !room));
        assert (!ge_start || paid_byte_d || paid_start_d || f_tok >= START);
        assert (!in_frame || f_tok >= f_owed + f_left * BYTE);
        assert (!go || (!in_frame && !paid_byte && !paid_start && f_tok >= START));
    end
`endif
endmodule
`default_nettype wire
