#pragma once
// Deprecated name, kept for the 0.2 minor version: include <switchyard/runtime.h> (or
// <switchyard/switchyard.h>). This forwarding header goes in 0.3.
#include <switchyard/runtime.h>
