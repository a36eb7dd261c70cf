# e2e scenario bernoulli1 (run by tests/e2e/run.sh bernoulli1, after lib.sh).
# A mixed tree in one pass through 1% independent (Bernoulli) loss on a
# 400 Mbit/s link with a 1 MB queue: the parity repairs it (lib.sh:
# release_through_loss).
release_through_loss mixed "--rate 400M --queue 1M --loss 1% --seed 11"
