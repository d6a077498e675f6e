#include "payload_fuzzer.hpp"

DISC_PAYLOAD_FUZZER("disc:cells=1,bits=2")
