/* The back-channel logout endpoint: SetHandler backchannel-logout. */
#ifndef BCL_RECEIVER_H
#define BCL_RECEIVER_H

#include <httpd.h>

int bcl_receiver_handler(request_rec *r);

#endif
