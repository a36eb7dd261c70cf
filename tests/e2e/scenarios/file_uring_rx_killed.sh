# e2e scenario file_uring_rx_killed (run by tests/e2e/run.sh file_uring_rx_killed, after lib.sh).
# Scenario rx_killed, unchanged, with file reads and writes on io_uring on both
# sides (lib.sh: with_file_io_uring).
with_file_io_uring rx_killed
