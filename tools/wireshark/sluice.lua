-- sluice.lua — Wireshark/tshark dissector for the sluice wire protocol (common/PROTOCOL.md).
--
-- Decodes the 60-byte clear header of every datagram (the body is encrypted
-- unless the suite is "none"), on UDP port 4747 and on EtherType 0x88B5.
-- Use:  wireshark -X lua_script:tools/wireshark/sluice.lua capture.pcap
--       tshark -X lua_script:tools/wireshark/sluice.lua -r capture.pcap -Y sluice
-- or copy it to ~/.local/lib/wireshark/plugins/.

local p = Proto("sluice", "sluice one-way transfer")

local types = { [1] = "preamble", [2] = "heartbeat", [3] = "transfer header", [4] = "symbol" }
local suites = { [0] = "none (CRC32C)", [1] = "AES-256-GCM", [2] = "XChaCha20-Poly1305" }

local f = p.fields
f.magic    = ProtoField.uint16("sluice.magic", "Magic", base.HEX)
f.version  = ProtoField.uint8("sluice.version", "Version")
f.type     = ProtoField.uint8("sluice.type", "Type", base.DEC, types)
f.suite    = ProtoField.uint8("sluice.suite", "AEAD suite", base.DEC, suites)
f.flags    = ProtoField.uint8("sluice.flags", "Flags", base.HEX)
f.paylen   = ProtoField.uint16("sluice.paylen", "Payload length")
f.session  = ProtoField.uint64("sluice.session", "Session", base.HEX)
f.packet   = ProtoField.uint64("sluice.packet", "Packet number")
f.xfer     = ProtoField.bytes("sluice.xfer", "Transfer id")
f.block    = ProtoField.uint64("sluice.block", "Block")
f.row      = ProtoField.uint16("sluice.row", "Row")
f.k        = ProtoField.uint16("sluice.k", "k (data symbols)")
f.m        = ProtoField.uint16("sluice.m", "m (parity per pass)")
f.symsize  = ProtoField.uint16("sluice.symsize", "Symbol size")
f.pass     = ProtoField.uint16("sluice.pass", "Pass")
f.body     = ProtoField.bytes("sluice.body", "Body")
f.tag      = ProtoField.bytes("sluice.tag", "Tag / CRC32C")
f.parity   = ProtoField.bool("sluice.parity", "Parity row")

local function dissect(buf, pinfo, tree)
	if buf:len() < 60 + 16 or buf(0, 2):uint() ~= 0x534C then
		return 0
	end
	pinfo.cols.protocol = "sluice"
	local t = tree:add(p, buf(), "sluice")
	t:add(f.magic, buf(0, 2))
	t:add(f.version, buf(2, 1))
	t:add(f.type, buf(3, 1))
	t:add(f.suite, buf(4, 1))
	t:add(f.flags, buf(5, 1))
	t:add(f.paylen, buf(6, 2))
	t:add(f.session, buf(8, 8))
	t:add(f.packet, buf(16, 8))
	t:add(f.xfer, buf(24, 16))
	local ty = buf(3, 1):uint()
	local symsize = buf(54, 2):uint()
	if ty == 4 then
		t:add(f.block, buf(40, 8))
		t:add(f.row, buf(48, 2))
		t:add(f.k, buf(50, 2))
		t:add(f.m, buf(52, 2))
		t:add(f.parity, buf(48, 2), buf(48, 2):uint() >= buf(50, 2):uint())
	end
	t:add(f.symsize, buf(54, 2))
	t:add(f.pass, buf(56, 2))
	if buf:len() >= 60 + symsize + 16 then
		t:add(f.body, buf(60, symsize))
		t:add(f.tag, buf(60 + symsize, 16))
	end
	local info = string.format("%s session %s #%d", types[ty] or "?", buf(8, 8):bytes():tohex(),
		buf(16, 8):uint64():tonumber())
	if ty == 4 then
		info = info .. string.format(" block %d row %d/%d", buf(40, 8):uint64():tonumber(),
			buf(48, 2):uint(), buf(50, 2):uint())
	end
	pinfo.cols.info = info
	return buf:len()
end

function p.dissector(buf, pinfo, tree)
	return dissect(buf, pinfo, tree)
end

-- Raw Ethernet: EtherType 0x88B5, a 2-byte length, then the datagram.
local raw = Proto("sluice_eth", "sluice over Ethernet")
function raw.dissector(buf, pinfo, tree)
	if buf:len() < 2 then return 0 end
	local n = buf(0, 2):uint()
	if n + 2 > buf:len() then return 0 end
	return dissect(buf(2, n):tvb(), pinfo, tree) + 2
end

DissectorTable.get("udp.port"):add(4747, p)
DissectorTable.get("ethertype"):add(0x88B5, raw)
