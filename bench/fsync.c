// fdatasync after appending (what the journal writer does) vs after overwriting zero-filled blocks
// (BENCHMARKS.md, foundation item 9: cheaper, but not crash-safe with the current journal format).
// Usage: cc -O2 bench/fsync.c -o /tmp/fsync && (cd <dir on the data disk> && /tmp/fsync)
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double wall(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

static void run(int overwrite, int count, int size) {
    const char *path = "fsync-bench.tmp";
    unlink(path);
    int fd = open(path, O_RDWR | O_CREAT | (overwrite ? 0 : O_APPEND), 0644);
    if (fd < 0) { perror("open"); exit(1); }
    size_t fill = (size_t)count * size + (1 << 20);
    char *buffer = calloc(1, fill);
    if (overwrite && (write(fd, buffer, fill) != (ssize_t)fill || fdatasync(fd) != 0)) { perror("fill"); exit(1); }
    memset(buffer, 'x', size);
    double wall0 = wall(), cpu0 = cpu();
    for (int i = 0; i < count; i++) {
        ssize_t written = overwrite ? pwrite(fd, buffer, size, (off_t)i * size) : write(fd, buffer, size);
        if (written != size || fdatasync(fd) != 0) { perror("write"); exit(1); }
    }
    double wall1 = wall(), cpu1 = cpu();
    printf("%-9s %d x %d bytes: %.1f us wall, %.1f us cpu per write+fdatasync\n", overwrite ? "overwrite" : "append",
           count, size, (wall1 - wall0) / count * 1e6, (cpu1 - cpu0) / count * 1e6);
    close(fd);
    unlink(path);
    free(buffer);
}

int main(void) {
    for (int round = 0; round < 2; round++) {
        run(0, 20000, 1500);
        run(1, 20000, 1500);
    }
    return 0;
}
