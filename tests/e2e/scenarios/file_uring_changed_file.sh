# e2e scenario file_uring_changed_file (run by tests/e2e/run.sh file_uring_changed_file, after lib.sh):
# scenario changed_file with file reads and writes on io_uring on both sides
# (--file-io uring; the rx sandbox stays on).
TX_EXTRA="--file-io uring" RX_EXTRA="--file-io uring"
note "file I/O on io_uring (tx and rx)"
scenario=changed_file
. "$here/scenarios/changed_file.sh"
