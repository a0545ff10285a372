/* Token buckets; see token_bucket.h. Refill arithmetic is done in 128 bits
 * so that long idle times and high rates cannot overflow, and the
 * sub-token remainder is carried so slow rates are exact over time. */
#include "util/token_bucket.h"

#define NS_PER_S 1000000000ull

void token_bucket_init(struct token_bucket *tb, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
    tb->rate = rate;
    tb->burst = burst ? burst : (rate ? rate : 1);
    if (tb->burst > (uint64_t)INT64_MAX / 2)
        tb->burst = (uint64_t)INT64_MAX / 2;
    tb->tokens = (int64_t)tb->burst;
    tb->last_ns = now_ns;
    tb->frac = 0;
}

static void refill(struct token_bucket *tb, uint64_t now_ns)
{
    if (now_ns <= tb->last_ns)
        return;
    unsigned __int128 units = (unsigned __int128)(now_ns - tb->last_ns) * tb->rate + tb->frac;
    unsigned __int128 add = units / NS_PER_S;
    tb->frac = (uint64_t)(units % NS_PER_S);
    tb->last_ns = now_ns;
    unsigned __int128 room = (unsigned __int128)((__int128)tb->burst - tb->tokens);
    if (add > room) {
        /* overflowing: the bucket is full and the remainder is moot */
        tb->tokens = (int64_t)tb->burst;
        tb->frac = 0;
    } else {
        tb->tokens += (int64_t)add;
    }
}

static int64_t needed(const struct token_bucket *tb, uint64_t n)
{
    return (int64_t)(n < tb->burst ? n : tb->burst);
}

bool token_bucket_consume(struct token_bucket *tb, uint64_t n, uint64_t now_ns)
{
    if (!tb->rate)
        return true;
    refill(tb, now_ns);
    if (tb->tokens < needed(tb, n))
        return false;
    if (n > (uint64_t)INT64_MAX / 2)
        n = (uint64_t)INT64_MAX / 2;
    tb->tokens -= (int64_t)n;
    return true;
}

uint64_t token_bucket_delay_ns(struct token_bucket *tb, uint64_t n, uint64_t now_ns)
{
    if (!tb->rate)
        return 0;
    refill(tb, now_ns);
    int64_t missing = needed(tb, n) - tb->tokens;
    if (missing <= 0)
        return 0;
    unsigned __int128 units = (unsigned __int128)missing * NS_PER_S;
    units = units > tb->frac ? units - tb->frac : 0;
    unsigned __int128 ns = (units + tb->rate - 1) / tb->rate;
    if (ns == 0)
        ns = 1;
    return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

void rate_limiter_init(struct rate_limiter *rl, uint64_t ops_per_s, uint64_t ops_burst,
                       uint64_t bytes_per_s, uint64_t bytes_burst, uint64_t now_ns)
{
    token_bucket_init(&rl->ops, ops_per_s, ops_burst, now_ns);
    token_bucket_init(&rl->bytes, bytes_per_s, bytes_burst, now_ns);
}

bool rate_limiter_active(const struct rate_limiter *rl)
{
    return rl->ops.rate || rl->bytes.rate;
}

uint64_t rate_limiter_admit(struct rate_limiter *rl, uint64_t bytes, uint64_t now_ns)
{
    uint64_t d1 = token_bucket_delay_ns(&rl->ops, 1, now_ns);
    uint64_t d2 = token_bucket_delay_ns(&rl->bytes, bytes, now_ns);
    if (d1 || d2)
        return d1 > d2 ? d1 : d2;
    token_bucket_consume(&rl->ops, 1, now_ns);
    token_bucket_consume(&rl->bytes, bytes, now_ns);
    return 0;
}
