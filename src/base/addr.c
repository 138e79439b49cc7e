#include "base/addr.h"

#include <stdio.h>
#include <stdlib.h>

int sp_ip4_parse(const char *s, uint32_t *addr)
{
	uint32_t a = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		int digits = 0;

		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (unsigned)(*s++ - '0');
			if (++digits > 3 || v > 255)
				return SP_EINVAL;
		}
		if (digits == 0)
			return SP_EINVAL;
		a = a << 8 | v;
		if (part < 3 && *s++ != '.')
			return SP_EINVAL;
	}
	if (*s != '\0')
		return SP_EINVAL;
	*addr = a;
	return 0;
}

char *sp_ip4_fmt(uint32_t a, char *buf)
{
	snprintf(buf, SP_IP4_STRLEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
		 a & 0xff);
	return buf;
}

int sp_ip4_prefix_parse(const char *s, uint32_t *net, uint8_t *len, bool strict)
{
	char tmp[32];
	const char *slash;
	unsigned long l = 32;
	uint32_t a;
	size_t n;

	slash = s;
	while (*slash != '\0' && *slash != '/')
		slash++;
	n = (size_t)(slash - s);
	if (n >= sizeof(tmp))
		return SP_EINVAL;
	for (size_t i = 0; i < n; i++)
		tmp[i] = s[i];
	tmp[n] = '\0';
	if (sp_ip4_parse(tmp, &a) != 0)
		return SP_EINVAL;
	if (*slash == '/') {
		char *end;

		if (slash[1] < '0' || slash[1] > '9')
			return SP_EINVAL;
		l = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || l > 32)
			return SP_EINVAL;
	}
	if (strict && (a & ~sp_ip4_mask((uint8_t)l)) != 0)
		return SP_EINVAL;
	*net = a & sp_ip4_mask((uint8_t)l);
	*len = (uint8_t)l;
	return 0;
}
