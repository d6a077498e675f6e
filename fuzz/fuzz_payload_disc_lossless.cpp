#include "payload_fuzzer.hpp"

DISC_PAYLOAD_FUZZER("disc:bits=0")
