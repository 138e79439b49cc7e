/* The configuration parser on arbitrary text, then every typed getter on every value. */
#include "fuzz.h"
#include "base/conf.h"

#include <string.h>

static void read_all(struct conf *cf)
{
	static const char *const names[] = { "a", "b", "masq", NULL };
	struct conf_sec *s;

	for (s = conf_next(cf, NULL, NULL); s != NULL; s = conf_next(cf, s, NULL)) {
		for (struct conf_kv *kv = s->kv; kv != NULL; kv = kv->next) {
			const char *str;
			uint64_t u64;
			uint32_t u32;
			sp_time t;
			bool b;
			int e;
			uint8_t hex[16];

			/* Each getter either succeeds or leaves a message naming the line. */
			if (conf_get_u64(s, kv->key, 0, 0, UINT64_MAX, &u64) != 0)
				FUZZ_CHECK(conf_error(cf)[0] != '\0');
			if (conf_get_u32(s, kv->key, 0, 1, 1000, &u32) != 0)
				FUZZ_CHECK(conf_error(cf)[0] != '\0');
			if (conf_get_bool(s, kv->key, false, &b) != 0)
				FUZZ_CHECK(conf_error(cf)[0] != '\0');
			if (conf_get_time(s, kv->key, 0, &t) != 0)
				FUZZ_CHECK(conf_error(cf)[0] != '\0');
			if (conf_get_size(s, kv->key, 0, &u64) != 0)
				FUZZ_CHECK(conf_error(cf)[0] != '\0');
			if (conf_get_ip4(s, kv->key, 0, &u32) != 0)
				FUZZ_CHECK(conf_error(cf)[0] != '\0');
			if (conf_get_enum(s, kv->key, names, 0, &e) != 0)
				FUZZ_CHECK(conf_error(cf)[0] != '\0');
			if (conf_get_hex(s, kv->key, hex, sizeof(hex), false) != 0)
				FUZZ_CHECK(conf_error(cf)[0] != '\0');
			if (conf_get_str(s, kv->key, NULL, &str) == 0)
				FUZZ_CHECK(str != NULL);
		}
	}
	(void)conf_check_unused(cf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *cf = NULL;
	char *text;

	if (size > 1 << 16)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (conf_parse_string(text, "fuzz.conf", &cf) == 0)
		read_all(cf);
	else if (cf != NULL)
		FUZZ_CHECK(conf_error(cf)[0] != '\0');
	conf_free(cf);
	free(text);
	return 0;
}
