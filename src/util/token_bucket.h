/* Token buckets for rate limiting (disks: operations/s and bytes/s;
 * network interfaces: bytes/s), in the manner of Firecracker's rate
 * limiter.
 *
 * A bucket holds up to `burst` tokens and refills at `rate` tokens per
 * second. A request of n tokens may go when the bucket holds
 * min(n, burst) tokens; it then takes n, leaving the bucket in debt if n
 * was larger than the burst, so one huge request is never blocked forever
 * and the average rate still holds. Callers pass the time (ns), so the
 * logic is pure and tests control the clock. Not thread-safe: each bucket
 * belongs to one device, used under that device's lock. */
#ifndef BRUME_UTIL_TOKEN_BUCKET_H
#define BRUME_UTIL_TOKEN_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct token_bucket {
    uint64_t rate;      /* tokens per second; 0 = unlimited */
    uint64_t burst;     /* capacity */
    int64_t tokens;     /* may be negative (debt) */
    uint64_t last_ns;   /* time of the last refill */
    uint64_t frac;      /* sub-token remainder of the refill, in token*ns units */
};

/* rate tokens/s, burst capacity (0: one second's worth). Starts full. */
void token_bucket_init(struct token_bucket *tb, uint64_t rate, uint64_t burst, uint64_t now_ns);

/* Takes n tokens if the bucket allows it now; returns true if it did. */
bool token_bucket_consume(struct token_bucket *tb, uint64_t n, uint64_t now_ns);

/* How long (ns) until a request of n tokens may go; 0 if it may now. */
uint64_t token_bucket_delay_ns(struct token_bucket *tb, uint64_t n, uint64_t now_ns);

/* Two buckets a request must both pass: operations and bytes. */
struct rate_limiter {
    struct token_bucket ops, bytes;
};

void rate_limiter_init(struct rate_limiter *rl, uint64_t ops_per_s, uint64_t ops_burst,
                       uint64_t bytes_per_s, uint64_t bytes_burst, uint64_t now_ns);
/* Returns 0 if one operation of `bytes` bytes may go now (tokens taken), or
 * the delay in ns after which to try again (nothing taken). */
uint64_t rate_limiter_admit(struct rate_limiter *rl, uint64_t bytes, uint64_t now_ns);
bool rate_limiter_active(const struct rate_limiter *rl);

#endif
