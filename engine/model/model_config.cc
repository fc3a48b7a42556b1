#include "model/model_config.h"

namespace flashchat {

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::Silu:
      return "silu";
    case Activation::Gelu:
      return "gelu";
    case Activation::Relu:
      return "relu";
    case Activation::Relu2:
      return "relu2";
    case Activation::DRelu:
      return "drelu";
    case Activation::GeluErf:
      return "gelu_erf";
  }
  return "?";
}

const char* arch_name(Arch a) {
  switch (a) {
    case Arch::Llama:
      return "llama";
    case Arch::Opt:
      return "opt";
    case Arch::Qwen2:
      return "qwen2";
    case Arch::Phi3:
      return "phi3";
    case Arch::Falcon:
      return "falcon";
  }
  return "?";
}

}  // namespace flashchat
