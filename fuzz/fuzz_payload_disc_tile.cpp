#include "payload_fuzzer.hpp"

DISC_PAYLOAD_FUZZER("disc:transform=1,tile=1")
