"""mutants.py — deliberately broken variants of the RTL that every one-way proof
must reject. Each mutant is a list of (file, exact old text, new text); an
anchor that is not found is an error, so a mutant can never silently become
the unmodified design."""

PORT_ANCHOR = "    output wire        hs_phy_rst_n\n);"


def add_input(decl):
    return ('diode_top.v', PORT_ANCHOR, "    output wire        hs_phy_rst_n,\n    " + decl + "\n);")


MUTANTS = {
    # A high-side PHY receiver that honours PAUSE: while the high side says
    # "pause", nothing leaves the FIFO, the FIFO fills, and the low side sees
    # drops (stat_drop_full, led_drop): a timing covert channel.
    'pause': [
        add_input("input  wire        hs_rx_pause      // MUTANT: PAUSE seen by a high-side receiver"),
        ('diode_top.v', ".m_axis_tdata(rl_d), .m_axis_tvalid(rl_v), .m_axis_tlast(rl_l), .m_axis_tready(rl_r),",
         ".m_axis_tdata(rl_d), .m_axis_tvalid(rl_v), .m_axis_tlast(rl_l), .m_axis_tready(rl_r & !hs_rx_pause),"),
    ],
    # The high-side PHY's link status shown on a low-side LED.
    'link_led': [
        add_input("input  wire        hs_link          // MUTANT: high-side PHY link status"),
        ('diode_top.v', "assign led_rx   = led_rx_r;", "assign led_rx   = led_rx_r | hs_link;"),
    ],
    # MDIO read data from the high-side PHY counted into a low-side counter.
    'mdio_read': [
        add_input("input  wire        hs_mdio_i        // MUTANT: high-side MDIO read data"),
        ('diode_top.v', "if (frame_ok)  stat_fwd       <= stat_fwd + 1'b1;",
         "if (frame_ok | hs_mdio_i) stat_fwd <= stat_fwd + 1'b1;"),
    ],
}


def apply(name, files):
    """files: dict filename -> text; returns a new dict with the mutant applied."""
    out = dict(files)
    for fname, old, new in MUTANTS[name]:
        if out[fname].count(old) != 1:
            raise SystemExit(f'mutant {name}: anchor not found exactly once in {fname}: {old!r}')
        out[fname] = out[fname].replace(old, new)
    return out
