/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small HTTP/1.1 server (RFC 9110, RFC 9112) on port 80: GET and HEAD of
 * /bytes/N (N bytes of the pattern in pattern.c) and of files under
 * --http-root. One request per connection (Connection: close). Bodies are
 * streamed through the connection's ring as acknowledgements free it, so a
 * 16 MiB body costs no more memory than a small one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "host.h"

#define HTTP_REQ_MAX 4096u         /* request line and header fields, bytes */
#define HTTP_REQ_TIMEOUT_MS 10000u /* the whole request must arrive by then */
#define HTTP_IDLE_MS 30000u
#define HTTP_BYTES_MAX (UINT64_C(1) << 40)
#define HTTP_METHOD_MAX 16u

struct request {
    char method[HTTP_METHOD_MAX + 1];
    char *target; /* NUL-terminated, inside the request buffer */
    bool head;
    bool http11;
    bool has_host;
};

/* ---- responses ------------------------------------------------------------- */

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 431:
        return "Request Header Fields Too Large";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Internal Server Error";
    }
}

/* The status line and header fields; the ring is empty here and always
 * larger than this (--tcp-buf is at least 4096). */
static void put_head(struct conn *c, int status, uint64_t length, const char *type)
{
    char head[320];
    int n =
        snprintf(head, sizeof(head),
                 "HTTP/1.1 %d %s\r\nServer: kite-host\r\nContent-Type: %s\r\n"
                 "Content-Length: %" PRIu64 "\r\n%sConnection: close\r\n\r\n",
                 status, reason(status), type, length, status == 405 ? "Allow: GET, HEAD\r\n" : "");

    conn_put(c, head, (uint32_t)n);
}

static void respond_error(struct conn *c, int status, bool head)
{
    char body[64];
    int n = snprintf(body, sizeof(body), "%d %s\n", status, reason(status));

    c->host->n.http_errors++;
    put_head(c, status, (uint64_t)n, "text/plain");
    if (!head) {
        conn_put(c, body, (uint32_t)n);
    }
    c->tx_done = true;
}

/* ---- request parsing (RFC 9112 2-5) ----------------------------------------- */

/* RFC 9110 5.6.2 tchar, the characters of a method or field name. */
static bool is_tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Split off one line ending in LF (a preceding CR is dropped); NULL at the end. */
static char *next_line(char **cursor)
{
    char *line = *cursor;
    char *lf = strchr(line, '\n');

    if (lf == NULL) {
        return NULL;
    }
    *cursor = lf + 1;
    if (lf > line && lf[-1] == '\r') {
        lf--;
    }
    *lf = '\0';
    return line;
}

/* RFC 9112 3: method SP request-target SP HTTP-version, single spaces. */
static int parse_request_line(char *line, struct request *req)
{
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
    size_t mlen = sp1 != NULL ? (size_t)(sp1 - line) : 0;

    if (sp2 == NULL || mlen == 0 || mlen > HTTP_METHOD_MAX || sp2 == sp1 + 1 ||
        strchr(sp2 + 1, ' ') != NULL) {
        return 400;
    }
    for (size_t i = 0; i < mlen; i++) {
        if (!is_tchar(line[i])) {
            return 400;
        }
    }
    memcpy(req->method, line, mlen);
    req->method[mlen] = '\0';
    *sp2 = '\0';
    req->target = sp1 + 1;
    if (strcmp(sp2 + 1, "HTTP/1.1") == 0 || strcmp(sp2 + 1, "HTTP/1.0") == 0) {
        req->http11 = sp2[8] == '1';
        return 0;
    }
    /* RFC 9112 2.3: a well-formed version we don't speak. */
    if (strncmp(sp2 + 1, "HTTP/", 5) == 0 && strlen(sp2 + 1) == 8 && sp2[7] == '.') {
        return 505;
    }
    return 400;
}

/* RFC 9112 5: field-name ":" OWS value; no whitespace before the colon
 * (5.1), no obsolete line folding (5.2). Only Host matters to us. */
static int parse_field(const char *line, struct request *req)
{
    const char *colon = strchr(line, ':');

    if (colon == NULL || colon == line) {
        return 400;
    }
    for (const char *s = line; s < colon; s++) {
        if (!is_tchar(*s)) {
            return 400;
        }
    }
    if (colon - line == 4 && strncasecmp(line, "host", 4) == 0) {
        if (req->has_host) {
            return 400; /* RFC 9112 3.2: more than one Host */
        }
        req->has_host = true;
    }
    return 0;
}

/* Control characters (other than HT, CR, LF) have no place in a request head. */
static bool head_is_clean(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if ((ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') || ch == 0x7f) {
            return false;
        }
    }
    return true;
}

static int parse_request(char *buf, size_t len, struct request *req)
{
    char *cursor = buf;
    char *line;
    int status;

    if (!head_is_clean(buf, len)) {
        return 400;
    }
    buf[len] = '\0';
    line = next_line(&cursor);
    status = line != NULL ? parse_request_line(line, req) : 400;
    while (status == 0 && (line = next_line(&cursor)) != NULL && line[0] != '\0') {
        status = line[0] == ' ' || line[0] == '\t' ? 400 : parse_field(line, req);
    }
    if (status == 0 && req->http11 && !req->has_host) {
        status = 400; /* RFC 9112 3.2: a 1.1 request without Host */
    }
    req->head = strcmp(req->method, "HEAD") == 0;
    return status;
}

/* ---- targets ---------------------------------------------------------------- */

/* "/bytes/N": N decimal, no sign, no leading zeros, at most 2^40. */
static int route_bytes(struct conn *c, const char *digits, bool head)
{
    uint64_t n = 0;

    if (digits[0] == '\0' || (digits[0] == '0' && digits[1] != '\0')) {
        return 400;
    }
    for (const char *s = digits; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || n > HTTP_BYTES_MAX / 10u) {
            return 400;
        }
        n = n * 10u + (uint64_t)(*s - '0');
    }
    if (n > HTTP_BYTES_MAX) {
        return 400;
    }
    put_head(c, 200, n, "application/octet-stream");
    if (!head) {
        c->gen_kind = GEN_BYTES;
        c->gen_base = c->produced;
        c->gen_total = c->produced + n;
    }
    return 0;
}

/* A relative path made of plain components: no empty component (so no
 * absolute path and no "//"), no "." or "..", no backslash. */
static bool safe_path(const char *path)
{
    const char *s = path;

    if (strchr(path, '\\') != NULL) {
        return false;
    }
    for (;;) {
        const char *end = strchr(s, '/');
        size_t len = end != NULL ? (size_t)(end - s) : strlen(s);
        if (len == 0 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')) {
            return false;
        }
        if (end == NULL) {
            return true;
        }
        s = end + 1;
    }
}

/* Open beneath the root: openat2's RESOLVE_BENEATH also stops symlinks that
 * point outside; kernels before 5.6 fall back to refusing a final symlink. */
static int open_beneath(int root, const char *path)
{
    struct open_how how;
    long fd;

    memset(&how, 0, sizeof(how));
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    fd = syscall(SYS_openat2, root, path, &how, sizeof(how));
    if (fd < 0 && errno == ENOSYS) {
        fd = openat(root, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    }
    return (int)fd;
}

static int route_file(struct conn *c, const char *target, bool head)
{
    const char *path = strcmp(target, "/") == 0 ? "index.html" : target + 1;
    struct stat st;
    int fd;

    if (!safe_path(path)) {
        return 400;
    }
    if (c->host->http_root_fd < 0) {
        return 404;
    }
    fd = open_beneath(c->host->http_root_fd, path);
    if (fd < 0) {
        return 404;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return 404;
    }
    put_head(c, 200, (uint64_t)st.st_size, "application/octet-stream");
    if (head) {
        close(fd);
    } else {
        c->fd = fd;
        c->file_left = (uint64_t)st.st_size;
    }
    return 0;
}

static int route(struct conn *c, const struct request *req)
{
    char *query = strchr(req->target, '?');

    if (strcmp(req->method, "GET") != 0 && !req->head) {
        return 405;
    }
    if (req->target[0] != '/' || strchr(req->target, '%') != NULL) {
        return 400; /* origin-form only (RFC 9112 3.2.1); no percent-encoding */
    }
    if (query != NULL) {
        *query = '\0';
    }
    if (strncmp(req->target, "/bytes/", 7) == 0) {
        return route_bytes(c, req->target + 7, req->head);
    }
    return route_file(c, req->target, req->head);
}

/* ---- the connection ----------------------------------------------------------- */

static void handle_request(struct conn *c)
{
    struct request req;
    int status;

    memset(&req, 0, sizeof(req));
    c->req_done = true;
    c->deadline = KITE_TIME_NEVER;
    c->host->n.http_requests++;
    status = parse_request(c->req, c->req_len, &req);
    if (status == 0) {
        status = route(c, &req);
    }
    if (status != 0) {
        respond_error(c, status, req.head);
    }
}

/* The end of the head: an empty line (CRLF CRLF, or bare LF LF, RFC 9112 2.2). */
static bool head_complete(const struct conn *c, uint16_t from)
{
    for (uint16_t i = from > 3 ? (uint16_t)(from - 3) : 0; i < c->req_len; i++) {
        if (c->req[i] == '\n' && ((i >= 1 && c->req[i - 1] == '\n') ||
                                  (i >= 3 && memcmp(c->req + i - 3, "\r\n\r\n", 4) == 0))) {
            return true;
        }
    }
    return false;
}

static void http_data(struct conn *c, const struct kite_pbuf *p)
{
    uint16_t old = c->req_len;
    uint16_t n = p->tot_len;

    if (c->req_done) {
        return; /* after the request: a body or pipelining, ignored (we close) */
    }
    if (n > HTTP_REQ_MAX - c->req_len) {
        n = (uint16_t)(HTTP_REQ_MAX - c->req_len);
    }
    c->req_len = (uint16_t)(c->req_len + kite_pbuf_copy_out(p, c->req + c->req_len, n, 0));
    if (head_complete(c, old)) {
        handle_request(c);
    } else if (c->req_len == HTTP_REQ_MAX) {
        c->req_done = true;
        c->deadline = KITE_TIME_NEVER;
        respond_error(c, 431, false);
    }
}

static void http_fin(struct conn *c)
{
    if (!c->req_done) {
        c->req_done = true; /* closed before a complete request: just close */
        c->deadline = KITE_TIME_NEVER;
        c->tx_done = true;
    }
}

static void http_timeout(struct conn *c)
{
    if (!c->req_done) {
        c->req_done = true;
        respond_error(c, 408, false);
    }
}

static void file_refill(struct conn *c)
{
    while (c->file_left > 0) {
        uint8_t *dst;
        uint32_t n = conn_space(c, &dst);
        ssize_t got;

        if (n == 0) {
            return;
        }
        if (n > c->file_left) {
            n = (uint32_t)c->file_left;
        }
        got = read(c->fd, dst, n);
        if (got <= 0) {
            if (got < 0 && errno == EINTR) {
                continue;
            }
            c->broken = true; /* the file shrank or failed: can't keep our length */
            return;
        }
        conn_produce(c, (uint32_t)got);
        c->file_left -= (uint64_t)got;
    }
    c->tx_done = true;
}

static void http_refill(struct conn *c)
{
    if (!c->req_done) {
        return;
    }
    if (c->gen_kind != GEN_NONE) {
        pattern_refill(c);
    } else if (c->fd >= 0) {
        file_refill(c);
    } else {
        c->tx_done = true;
    }
}

static void http_free(struct conn *c)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

static const struct conn_ops http_ops = {
    .name = "http",
    .on_data = http_data,
    .on_timeout = http_timeout,
    .on_fin = http_fin,
    .refill = http_refill,
    .on_free = http_free,
};

enum kite_err http_accept(void *arg, struct kite_tcp_pcb *pcb)
{
    struct host *host = arg;
    struct conn *c = conn_new(host, pcb, &http_ops, HTTP_IDLE_MS);

    if (c != NULL && (c->req = malloc(HTTP_REQ_MAX + 1u)) == NULL) {
        conn_forget(c);
        c = NULL;
    }
    if (c == NULL) {
        host->n.tcp_refused++;
        return KITE_ERR_MEM; /* the stack resets the connection */
    }
    host->n.tcp_accepted++;
    c->deadline = host->stack->now + HTTP_REQ_TIMEOUT_MS;
    return KITE_ERR_OK;
}
