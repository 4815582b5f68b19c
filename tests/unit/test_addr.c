/* SPDX-License-Identifier: BSD-3-Clause */
/* Text forms of addresses (kite/addr.h): dotted quads, prefixes, MACs, and
 * what each parser refuses. */
#include <string.h>

#include "kite/addr.h"
#include "testutil.h"

static void ip4_round_trip(void **state)
{
    (void)state;
    uint32_t ip = 0;
    char buf[16];
    assert_true(kite_ip4_parse("192.0.2.1", &ip));
    assert_int_equal(ip, KITE_IP4(192, 0, 2, 1));
    assert_string_equal(kite_ip4_format(ip, buf, sizeof buf), "192.0.2.1");
    const char *bad[] = {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.4 ", "a.b.c.d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(kite_ip4_parse(bad[i], &ip));
}

static void ip4_prefix(void **state)
{
    (void)state;
    uint32_t ip = 1;
    unsigned len = 99;
    assert_true(kite_ip4_parse_prefix("198.51.100.7/24", &ip, &len));
    assert_int_equal(ip, KITE_IP4(198, 51, 100, 7));
    assert_int_equal(len, 24);
    assert_true(kite_ip4_parse_prefix("0.0.0.0/0", &ip, &len));
    assert_int_equal(len, 0);
    assert_true(kite_ip4_parse_prefix("192.0.2.2/32", &ip, &len));
    assert_int_equal(len, 32);
    const char *bad[] = {
        "192.0.2.2", "192.0.2.2/", "192.0.2.2/33", "192.0.2.2/024", "192.0.2.2/2x",
        "/24",       "192.0.2/24", "192.0.2.2/-1", "192.0.2.2//24", "1234567890123456789/8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ip = 7;
        len = 7;
        assert_false(kite_ip4_parse_prefix(bad[i], &ip, &len));
    }
}

static void mac(void **state)
{
    (void)state;
    uint8_t m[6] = {0};
    static const uint8_t want[6] = {0x02, 0x6b, 0x69, 0x74, 0x65, 0xAF};
    assert_true(kite_mac_parse("02:6b:69:74:65:aF", m));
    assert_memory_equal(m, want, 6);
    const char *bad[] = {"",
                         "02:6b:69:74:65",
                         "02:6b:69:74:65:02:00",
                         "02-6b-69-74-65-02",
                         "2:6b:69:74:65:02",
                         "02:6b:69:74:65:0g",
                         "01:00:5e:00:00:01", /* a group address */
                         "ff:ff:ff:ff:ff:ff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(m, 0x55, sizeof m);
        assert_false(kite_mac_parse(bad[i], m));
        assert_int_equal(m[0], 0x55); /* untouched on failure */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ip4_round_trip),
        cmocka_unit_test(ip4_prefix),
        cmocka_unit_test(mac),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
