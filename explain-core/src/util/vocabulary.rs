//! One list of names per vocabulary enum: [`vocabulary!`](crate::vocabulary) gives a
//! fieldless enum its names (`ALL`, `NAMES`, `name()`), [`std::str::FromStr`] with the message
//! explain prints for an unknown name, and [`std::fmt::Display`]. The command line (clap's
//! value parsers), the config and the documents (serde renames the same way) all spell the
//! values from this one list.

/// Implements `ALL`, `NAMES`, `name()`, `FromStr` (error: [`crate::Error::Input`] with
/// `$unknown`, a closure from the given text to the message) and `Display` for a fieldless
/// enum.
///
/// ```
/// #[derive(Debug, Clone, Copy, PartialEq)]
/// enum Colour { Red, Blue }
/// explain_core::vocabulary!(Colour, |s| format!("unknown colour '{s}'"), {
///     Red => "red",
///     Blue => "blue",
/// });
/// assert_eq!("blue".parse::<Colour>().unwrap(), Colour::Blue);
/// assert_eq!(Colour::Red.to_string(), "red");
/// assert_eq!(Colour::NAMES, ["red", "blue"]);
/// assert_eq!("green".parse::<Colour>().unwrap_err().to_string(), "unknown colour 'green'");
/// ```
#[macro_export]
macro_rules! vocabulary {
    ($ty:ident, $unknown:expr, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in the order messages and help list them.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];
            /// The names, as the command line, the config and the documents spell them.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The value's name.
            pub fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::Error;

            fn from_str(s: &str) -> $crate::Result<$ty> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    _ => {
                        let message: fn(&str) -> String = $unknown;
                        Err($crate::Error::Input(message(s)))
                    }
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}
