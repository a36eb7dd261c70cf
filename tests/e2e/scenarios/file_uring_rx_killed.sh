# e2e scenario file_uring_rx_killed (run by tests/e2e/run.sh file_uring_rx_killed, after lib.sh):
# scenario rx_killed with file reads and writes on io_uring on both sides
# (--file-io uring; the rx sandbox stays on).
TX_EXTRA="--file-io uring" RX_EXTRA="--file-io uring"
note "file I/O on io_uring (tx and rx)"
scenario=rx_killed
. "$here/scenarios/rx_killed.sh"
