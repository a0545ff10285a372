#include <errno.h>

#include "../test.h"
#include "util/size.h"

int main(void)
{
    uint64_t v = 0;
    CHECK_EQ(size_parse("512M", &v), 0); CHECK_EQ(v, 512ull << 20);
    CHECK_EQ(size_parse("2G", &v), 0); CHECK_EQ(v, 2ull << 30);
    CHECK_EQ(size_parse("2g", &v), 0); CHECK_EQ(v, 2ull << 30);
    CHECK_EQ(size_parse("4KiB", &v), 0); CHECK_EQ(v, 4096);
    CHECK_EQ(size_parse("1048576", &v), 0); CHECK_EQ(v, 1048576);
    CHECK_EQ(size_parse("0", &v), 0); CHECK_EQ(v, 0);
    CHECK_EQ(size_parse("", &v), -EINVAL);
    CHECK_EQ(size_parse("-1G", &v), -EINVAL);
    CHECK_EQ(size_parse("12Q", &v), -EINVAL);
    CHECK_EQ(size_parse("1.5G", &v), -EINVAL);
    CHECK_EQ(size_parse("M", &v), -EINVAL);
    CHECK_EQ(size_parse("99999999999999999999", &v), -ERANGE);
    CHECK_EQ(size_parse("20000000T", &v), -ERANGE);
    TEST_MAIN_END();
}
