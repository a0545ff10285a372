/* The token bucket behind the disk and network rate limiters, on a clock
 * the test controls. */
#include "../test.h"
#include "util/token_bucket.h"

#define S 1000000000ull

int main(void)
{
    struct token_bucket tb;
    uint64_t t = 5 * S;

    /* 100 tokens/s, burst 10: starts full */
    token_bucket_init(&tb, 100, 10, t);
    CHECK(token_bucket_consume(&tb, 10, t));
    CHECK(!token_bucket_consume(&tb, 1, t));
    CHECK_EQ(token_bucket_delay_ns(&tb, 1, t), S / 100);
    CHECK_EQ(token_bucket_delay_ns(&tb, 5, t), 5 * S / 100);
    /* 10 ms later exactly one token is back */
    CHECK(token_bucket_consume(&tb, 1, t + S / 100));
    CHECK(!token_bucket_consume(&tb, 1, t + S / 100));
    /* refill never exceeds the burst */
    CHECK(token_bucket_consume(&tb, 10, t + 100 * S));
    CHECK(!token_bucket_consume(&tb, 1, t + 100 * S));

    /* slow rates accumulate fractions: 3 tokens/s, burst 1 */
    token_bucket_init(&tb, 3, 1, 0);
    CHECK(token_bucket_consume(&tb, 1, 0));
    int got = 0;
    for (uint64_t now = S / 1000; now <= 3 * S; now += S / 1000)
        got += token_bucket_consume(&tb, 1, now);
    CHECK_EQ(got, 9);  /* 3/s over 3 s */

    /* a request above the burst goes when the bucket is full, in debt */
    token_bucket_init(&tb, 1000, 100, 0);
    CHECK(token_bucket_consume(&tb, 500, 0));
    CHECK_EQ(tb.tokens, -400);
    CHECK_EQ(token_bucket_delay_ns(&tb, 1, 0), 401 * S / 1000);
    CHECK(!token_bucket_consume(&tb, 1, 400 * S / 1000));
    CHECK(token_bucket_consume(&tb, 1, 401 * S / 1000));

    /* rate 0 is unlimited; huge rates and idle times do not overflow */
    token_bucket_init(&tb, 0, 0, 0);
    CHECK(token_bucket_consume(&tb, UINT64_MAX, 0));
    CHECK_EQ(token_bucket_delay_ns(&tb, UINT64_MAX, 0), 0);
    token_bucket_init(&tb, UINT64_MAX / 4, 0, 0);
    CHECK(token_bucket_consume(&tb, UINT64_MAX / 4, 0));
    CHECK(token_bucket_consume(&tb, 1000, UINT64_MAX / 2));

    /* the two-bucket limiter: ops and bytes both gate, nothing taken on no */
    struct rate_limiter rl;
    rate_limiter_init(&rl, 2, 2, 1000, 1000, 0);
    CHECK(rate_limiter_active(&rl));
    CHECK_EQ(rate_limiter_admit(&rl, 600, 0), 0);
    uint64_t d = rate_limiter_admit(&rl, 600, 0); /* bytes short by 200 */
    CHECK_EQ(d, 200 * S / 1000);
    CHECK_EQ(rl.ops.tokens, 1);                    /* not taken */
    CHECK_EQ(rate_limiter_admit(&rl, 400, 0), 0);
    CHECK_EQ(rate_limiter_admit(&rl, 0, 0), S / 2); /* out of ops */
    rate_limiter_init(&rl, 0, 0, 0, 0, 0);
    CHECK(!rate_limiter_active(&rl));
    CHECK_EQ(rate_limiter_admit(&rl, 1 << 30, 0), 0);
    TEST_MAIN_END();
}
