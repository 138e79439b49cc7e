/* esp_parse(): eight octets, non-zero SPI, nothing consumed on failure. */
#include "fuzz.h"
#include "proto/esp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct esp_hdr h;
	struct cur c;

	cur_init(&c, data, size);
	if (esp_parse(&c, &h) != 0) {
		FUZZ_CHECK(cur_pos(&c) == 0);
		return 0;
	}
	FUZZ_CHECK(size >= ESP_HDR_LEN && cur_pos(&c) == ESP_HDR_LEN);
	FUZZ_CHECK(h.esp_spi != 0 && h.esp_spi == sp_load_be32(data));
	return 0;
}
