/* Parsing of --disk, --net, --balloon, --virtio-console and --virtio-rng
 * (syntax in options.h). Pure string work: nothing is opened here, so the
 * errors are about syntax and ranges; files and ports are checked when the
 * devices are created. Option keys are tables, not if-chains. */
#include "virtio/options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/size.h"

void virtio_config_init(struct virtio_config *c)
{
    memset(c, 0, sizeof(*c));
    c->rng = true;
    c->console_in_fd = -1;
}

void virtio_config_free(struct virtio_config *c)
{
    for (int i = 0; i < c->ndisks; i++)
        free(c->disks[i].path);
    free(c->console_path);
    c->ndisks = 0;
    c->console_path = NULL;
}

/* ---- splitting "a,b=c,d" with ",," as a literal comma ---- */

#define MAX_FIELDS 40

struct fields {
    char *buf;
    char *f[MAX_FIELDS];
    int n;
};

static int split(const char *opt, const char *arg, struct fields *fs)
{
    fs->n = 0;
    fs->buf = malloc(strlen(arg) + 1);
    if (!fs->buf)
        return err_set(-ENOMEM, "%s: out of memory", opt);
    char *w = fs->buf;
    fs->f[fs->n++] = w;
    for (const char *p = arg; *p; p++) {
        if (*p == ',' && p[1] == ',') {
            *w++ = ',';
            p++;
        } else if (*p == ',') {
            *w++ = '\0';
            if (fs->n == MAX_FIELDS) {
                free(fs->buf);
                return err_set(-EINVAL, "%s %s: too many options", opt, arg);
            }
            fs->f[fs->n++] = w;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return 0;
}

/* "key=value" -> key, value (value NULL when there is no '='). */
static char *kv(char *field, char **value)
{
    char *eq = strchr(field, '=');
    *value = NULL;
    if (eq) {
        *eq = '\0';
        *value = eq + 1;
    }
    return field;
}

static int parse_onoff(const char *opt, const char *key, const char *v, bool *out)
{
    static const struct { const char *s; bool v; } words[] = {
        {"on", true}, {"off", false}, {"yes", true}, {"no", false},
        {"true", true}, {"false", false}, {"1", true}, {"0", false},
    };
    if (!v)  /* a bare "readonly" means on */
        return *out = true, 0;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcmp(v, words[i].s) == 0)
            return *out = words[i].v, 0;
    return err_set(-EINVAL, "%s: %s=%s: expected on or off", opt, key, v);
}

static int parse_count(const char *opt, const char *key, const char *v, uint64_t *out)
{
    char *end;
    if (!v || !*v || *v == '-')
        return err_set(-EINVAL, "%s: %s needs a number (e.g. %s=1000)", opt, key, key);
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end)
        return err_set(-EINVAL, "%s: %s=%s: not a number", opt, key, v);
    *out = n;
    return 0;
}

static int parse_bytes(const char *opt, const char *key, const char *v, uint64_t *out)
{
    if (!v || !*v)
        return err_set(-EINVAL, "%s: %s needs a size (e.g. %s=10M)", opt, key, key);
    int rc = size_parse(v, out);
    if (rc < 0)
        return err_set(-EINVAL, "%s: %s=%s: expected bytes per second (e.g. 10M)", opt, key, v);
    return 0;
}

/* ---- --disk ---- */

static const char *const formats[] = {"raw", "qcow2", "vmdk", "vdi"};

enum disk_key { DK_FORMAT, DK_READONLY, DK_IOPS, DK_IOPS_BURST, DK_BPS, DK_BPS_BURST, DK_SERIAL };
static const struct { const char *name; enum disk_key key; } disk_keys[] = {
    {"format", DK_FORMAT}, {"readonly", DK_READONLY}, {"iops", DK_IOPS},
    {"iops_burst", DK_IOPS_BURST}, {"bps", DK_BPS}, {"bps_burst", DK_BPS_BURST},
    {"serial", DK_SERIAL},
};

static int disk_option(struct virtio_disk_config *d, char *key, char *v)
{
    const char *opt = "--disk";
    for (size_t i = 0; i < sizeof(disk_keys) / sizeof(disk_keys[0]); i++) {
        if (strcmp(key, disk_keys[i].name) != 0)
            continue;
        switch (disk_keys[i].key) {
        case DK_FORMAT:
            for (size_t k = 0; v && k < sizeof(formats) / sizeof(formats[0]); k++)
                if (strcmp(v, formats[k]) == 0)
                    return d->format = formats[k], 0;
            return err_set(-EINVAL, "--disk: format=%s: unknown format (raw, qcow2, vmdk or vdi)", v ? v : "");
        case DK_READONLY: return parse_onoff(opt, key, v, &d->read_only);
        case DK_IOPS: return parse_count(opt, key, v, &d->iops);
        case DK_IOPS_BURST: return parse_count(opt, key, v, &d->iops_burst);
        case DK_BPS: return parse_bytes(opt, key, v, &d->bps);
        case DK_BPS_BURST: return parse_bytes(opt, key, v, &d->bps_burst);
        case DK_SERIAL:
            if (!v || strlen(v) > 20)
                return err_set(-EINVAL, "--disk: serial= takes 1 to 20 characters");
            snprintf(d->serial, sizeof(d->serial), "%s", v);
            return 0;
        }
    }
    return err_set(-EINVAL, "--disk: unknown option '%s' (format, readonly, iops, iops_burst, bps, "
                   "bps_burst, serial)", key);
}

int virtio_parse_disk(struct virtio_config *c, const char *arg)
{
    if (c->ndisks == VIRTIO_MAX_DISKS)
        return err_set(-EINVAL, "--disk: at most %d disks", VIRTIO_MAX_DISKS);
    struct fields fs;
    int rc = split("--disk", arg, &fs);
    if (rc < 0)
        return rc;
    struct virtio_disk_config d = {0};
    if (strncmp(fs.f[0], "path=", 5) == 0)  /* path= spelled out */
        memmove(fs.f[0], fs.f[0] + 5, strlen(fs.f[0] + 5) + 1);
    if (!fs.f[0][0]) {
        free(fs.buf);
        return err_set(-EINVAL, "--disk: missing image path (--disk PATH[,readonly=on,...])");
    }
    for (int i = 1; i < fs.n; i++) {
        char *v, *k = kv(fs.f[i], &v);
        rc = disk_option(&d, k, v);
        if (rc < 0) {
            free(fs.buf);
            return rc;
        }
    }
    if (d.iops_burst && !d.iops) {
        free(fs.buf);
        return err_set(-EINVAL, "--disk: iops_burst without iops");
    }
    if (d.bps_burst && !d.bps) {
        free(fs.buf);
        return err_set(-EINVAL, "--disk: bps_burst without bps");
    }
    d.path = strdup(fs.f[0]);
    free(fs.buf);
    if (!d.path)
        return err_set(-ENOMEM, "--disk: out of memory");
    c->disks[c->ndisks++] = d;
    return 0;
}

/* ---- --net ---- */

static int parse_mac(const char *v, uint8_t mac[6])
{
    unsigned b[6];
    char tail;
    if (!v || sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6 ||
        strlen(v) != 17)
        return err_set(-EINVAL, "--net: mac=%s: expected six hex bytes like 52:54:00:12:34:56", v ? v : "");
    if (b[0] & 1)
        return err_set(-EINVAL, "--net: mac=%s: a multicast address cannot be an interface's", v);
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    return 0;
}

static int parse_port(const char *rule, const char *s, uint16_t *out)
{
    char *end;
    errno = 0;
    long p = strtol(s, &end, 10);
    if (!*s || *end || errno || p < 1 || p > 65535)
        return err_set(-EINVAL, "--net: hostfwd=%s: '%s' is not a port (1-65535)", rule, s);
    *out = (uint16_t)p;
    return 0;
}

static int parse_addr(const char *rule, const char *s, uint32_t *out)
{
    if (!*s) {
        *out = 0;
        return 0;
    }
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        return err_set(-EINVAL, "--net: hostfwd=%s: '%s' is not an IPv4 address", rule, s);
    *out = a.s_addr;
    return 0;
}

/* tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT (protocol optional: tcp) */
static int parse_hostfwd(struct net_user_opts *u, const char *rule)
{
    static const char want[] = "expected [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, "
                               "e.g. tcp:127.0.0.1:2222-:22";
    if (u->nfwd == NET_MAX_HOSTFWD)
        return err_set(-EINVAL, "--net: at most %d hostfwd rules", NET_MAX_HOSTFWD);
    char buf[128];
    if (!rule || strlen(rule) >= sizeof(buf))
        return err_set(-EINVAL, "--net: hostfwd=%s: %s", rule ? rule : "", want);
    strcpy(buf, rule);
    struct net_hostfwd f = {0};
    char *p = buf;
    if (strncmp(p, "tcp:", 4) == 0) {
        p += 4;
    } else if (strncmp(p, "udp:", 4) == 0) {
        f.udp = true;
        p += 4;
    } else if (p[0] == ':' && strchr(p + 1, ':') && strchr(p + 1, ':') < strchr(p, '-')) {
        p += 1;  /* empty protocol: ":127.0.0.1:2222-:22" */
    }
    char *dash = strchr(p, '-');
    if (!dash)
        return err_set(-EINVAL, "--net: hostfwd=%s: %s", rule, want);
    *dash = '\0';
    char *host = p, *guest = dash + 1;
    char *hc = strrchr(host, ':'), *gc = strrchr(guest, ':');
    if (!hc || !gc)
        return err_set(-EINVAL, "--net: hostfwd=%s: %s", rule, want);
    *hc = '\0';
    *gc = '\0';
    int rc;
    if ((rc = parse_addr(rule, host, &f.host_addr)) < 0 ||
        (rc = parse_port(rule, hc + 1, &f.host_port)) < 0 ||
        (rc = parse_addr(rule, guest, &f.guest_addr)) < 0 ||
        (rc = parse_port(rule, gc + 1, &f.guest_port)) < 0)
        return rc;
    for (int i = 0; i < u->nfwd; i++)
        if (u->fwd[i].udp == f.udp && u->fwd[i].host_port == f.host_port)
            return err_set(-EINVAL, "--net: hostfwd=%s: host port %u is forwarded twice", rule, f.host_port);
    u->fwd[u->nfwd++] = f;
    return 0;
}

enum net_key { NK_HOSTFWD, NK_IFNAME, NK_MAC, NK_BPS, NK_BPS_BURST };
static const struct { const char *name; enum net_key key; bool user, tap; } net_keys[] = {
    {"hostfwd", NK_HOSTFWD, true, false}, {"ifname", NK_IFNAME, false, true},
    {"mac", NK_MAC, true, true}, {"bps", NK_BPS, true, true}, {"bps_burst", NK_BPS_BURST, true, true},
};

static int net_option(struct virtio_net_config *n, const char *kind, char *key, char *v)
{
    for (size_t i = 0; i < sizeof(net_keys) / sizeof(net_keys[0]); i++) {
        if (strcmp(key, net_keys[i].name) != 0)
            continue;
        bool ok = n->kind == VIRTIO_NET_USER ? net_keys[i].user : net_keys[i].tap;
        if (!ok)
            return err_set(-EINVAL, "--net %s: %s= does not apply to %s networking", kind, key, kind);
        switch (net_keys[i].key) {
        case NK_HOSTFWD: return parse_hostfwd(&n->user, v);
        case NK_IFNAME:
            if (!v || !*v || strlen(v) >= sizeof(n->ifname))
                return err_set(-EINVAL, "--net tap: ifname= takes 1 to %zu characters", sizeof(n->ifname) - 1);
            strcpy(n->ifname, v);
            return 0;
        case NK_MAC:
            n->mac_set = true;
            return parse_mac(v, n->mac);
        case NK_BPS: return parse_bytes("--net", key, v, &n->bps);
        case NK_BPS_BURST: return parse_bytes("--net", key, v, &n->bps_burst);
        }
    }
    return err_set(-EINVAL, "--net %s: unknown option '%s' (%s)", kind, key,
                   n->kind == VIRTIO_NET_USER ? "hostfwd, mac, bps, bps_burst" : "ifname, mac, bps, bps_burst");
}

int virtio_parse_net(struct virtio_config *c, const char *arg)
{
    if (c->nnets == VIRTIO_MAX_NETS)
        return err_set(-EINVAL, "--net: at most %d interfaces", VIRTIO_MAX_NETS);
    struct fields fs;
    int rc = split("--net", arg, &fs);
    if (rc < 0)
        return rc;
    struct virtio_net_config n = {0};
    const char *kind = fs.f[0];
    if (strcmp(kind, "user") == 0) {
        n.kind = VIRTIO_NET_USER;
    } else if (strcmp(kind, "tap") == 0) {
        n.kind = VIRTIO_NET_TAP;
    } else {
        rc = err_set(-EINVAL, "--net %s: expected user or tap first (--net user[,hostfwd=...] or "
                     "--net tap,ifname=NAME)", arg);
        goto out;
    }
    for (int i = 1; i < fs.n; i++) {
        char *v, *k = kv(fs.f[i], &v);
        if ((rc = net_option(&n, kind, k, v)) < 0)
            goto out;
    }
    if (n.kind == VIRTIO_NET_TAP && !n.ifname[0]) {
        rc = err_set(-EINVAL, "--net tap: ifname=NAME is required");
        goto out;
    }
    if (n.bps_burst && !n.bps) {
        rc = err_set(-EINVAL, "--net: bps_burst without bps");
        goto out;
    }
    c->nets[c->nnets++] = n;
    rc = 0;
out:
    free(fs.buf);
    return rc;
}

/* ---- --balloon, --virtio-console, --virtio-rng ---- */

int virtio_parse_balloon(struct virtio_config *c, const char *arg)
{
    uint64_t bytes;
    if (size_parse(arg, &bytes) < 0)
        return err_set(-EINVAL, "--balloon %s: expected a size to take back from the guest (e.g. 256M)", arg);
    if (bytes % 4096)
        return err_set(-EINVAL, "--balloon %s: not a multiple of 4 KiB", arg);
    if (bytes / 4096 > UINT32_MAX)
        return err_set(-EINVAL, "--balloon %s: too large", arg);
    c->balloon = true;
    c->balloon_bytes = bytes;
    return 0;
}

int virtio_parse_console(struct virtio_config *c, const char *arg)
{
    if (strcmp(arg, "none") == 0) {
        c->console = false;
        return 0;
    }
    if (strncmp(arg, "file:", 5) == 0 && arg[5]) {
        char *p = strdup(arg + 5);
        if (!p)
            return err_set(-ENOMEM, "--virtio-console: out of memory");
        free(c->console_path);
        c->console_path = p;
        c->console = true;
        return 0;
    }
    return err_set(-EINVAL, "--virtio-console %s: expected file:PATH or none", arg);
}

int virtio_parse_rng(struct virtio_config *c, const char *arg)
{
    return parse_onoff("--virtio-rng", "--virtio-rng", arg, &c->rng) < 0
               ? err_set(-EINVAL, "--virtio-rng %s: expected on or off", arg)
               : 0;
}
