/* The front-channel logout endpoint: SetHandler frontchannel-logout. */
#ifndef BCL_FRONTCHANNEL_H
#define BCL_FRONTCHANNEL_H

#include <httpd.h>

#define BCL_FRONTCHANNEL_HANDLER "frontchannel-logout"

int bcl_frontchannel_handler(request_rec *r);

/* 1 when `r` is served by the front-channel logout handler: the guard
 * neither checks nor binds there (the handler reads the cookies itself). */
int bcl_frontchannel_is_handler(const request_rec *r);

#endif
