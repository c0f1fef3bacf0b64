#include "tokenize/tokenizer.h"

#include <gtest/gtest.h>
