/* Free TCP ports on 127.0.0.1 for guest port forwards. */
#pragma once

/* A port that was free a moment ago and is not handed to another job of
 * this process until released.  Negative errno on failure. */
int lg_port_reserve(void);
void lg_port_release(int port);
