# e2e scenario bernoulli5 (run by tests/e2e/run.sh bernoulli5, after lib.sh).
# A mixed tree through 5% independent (Bernoulli) loss on a 400 Mbit/s link
# with a 1 MB queue, sent in two passes (the second carries new repair
# rows) (lib.sh: release_through_loss).
release_through_loss mixed "--rate 400M --queue 1M --loss 5% --seed 12" "--passes 2"
