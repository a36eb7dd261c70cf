# e2e scenario file_uring_many_files (run by tests/e2e/run.sh file_uring_many_files, after lib.sh):
# scenario many_files with file reads and writes on io_uring on both sides
# (--file-io uring; the rx sandbox stays on).
TX_EXTRA="--file-io uring" RX_EXTRA="--file-io uring"
note "file I/O on io_uring (tx and rx)"
scenario=many_files
. "$here/scenarios/many_files.sh"
