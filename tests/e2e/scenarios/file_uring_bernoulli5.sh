# e2e scenario file_uring_bernoulli5 (run by tests/e2e/run.sh file_uring_bernoulli5, after lib.sh).
# Scenario bernoulli5, unchanged, with file reads and writes on io_uring on both
# sides (lib.sh: with_file_io_uring).
with_file_io_uring bernoulli5
