Measured by `bench/scan-restore.sh` (Linux 6.18.44-fc-v657, 2 CPUs; warm cache; median of 1 run1):

