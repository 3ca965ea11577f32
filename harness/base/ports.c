#include "ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"

#define MAX_HELD 256

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int held[MAX_HELD];

static bool is_held(int port)
{
    for (int i = 0; i < MAX_HELD; i++)
        if (held[i] == port)
            return true;
    return false;
}

int lg_port_reserve(void)
{
    pthread_mutex_lock(&lock);
    int result = -EADDRINUSE;
    for (int attempt = 0; attempt < 50; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            result = -errno;
            break;
        }
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(addr);
        int port = -1;
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
            getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
            port = ntohs(addr.sin_port);
        close(fd);
        if (port <= 0 || is_held(port))
            continue;
        for (int i = 0; i < MAX_HELD; i++) {
            if (held[i] == 0) {
                held[i] = port;
                result = port;
                break;
            }
        }
        break;
    }
    pthread_mutex_unlock(&lock);
    if (result < 0)
        lg_error_set("no free port on 127.0.0.1: %s", strerror(-result));
    return result;
}

void lg_port_release(int port)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_HELD; i++)
        if (held[i] == port)
            held[i] = 0;
    pthread_mutex_unlock(&lock);
}
