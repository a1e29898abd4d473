/* What nft.c and nft_forward.c share: the context of acre's table. */
#ifndef ACRE_NETNS_NFT_INTERNAL_H
#define ACRE_NETNS_NFT_INTERNAL_H

#include "netns.h"

#include <nftables/libnftables.h>

struct acre_nft {
	struct nft_ctx *ctx; /* output and errors buffered, never printed */
	char table[ACRE_NFT_TABLE_MAX];
};

#endif
