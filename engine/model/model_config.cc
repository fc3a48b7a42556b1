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
  }
  return "?";
}

}  // namespace flashchat
