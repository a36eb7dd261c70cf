# e2e scenario file_uring_bernoulli5 (run by tests/e2e/run.sh file_uring_bernoulli5, after lib.sh):
# scenario bernoulli5 with file reads and writes on io_uring on both sides
# (--file-io uring; the rx sandbox stays on).
TX_EXTRA="--file-io uring" RX_EXTRA="--file-io uring"
note "file I/O on io_uring (tx and rx)"
scenario=bernoulli5
. "$here/scenarios/bernoulli5.sh"
