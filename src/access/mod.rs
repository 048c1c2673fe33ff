//! Opening data for an actor: the policy decides, this layer looks up the facts it decides on,
//! writes the `denied` event of a refusal, and hands a feature only what it may use.

pub mod read;
